// Comlink serializes thrown Errors as {name, message, stack} and drops everything else; the UI
// switches on the engine's stable `code` (and a failed load's `previous`), so the worker's
// serializer keeps them. Comlink's own
// deserializer (Object.assign onto a new Error) restores it on the other side unchanged.
import * as Comlink from 'comlink';

type Thrown = { value: unknown };

export function keepErrorCodes(): void {
  const base = Comlink.transferHandlers.get('throw') as Comlink.TransferHandler<Thrown, unknown>;
  Comlink.transferHandlers.set('throw', {
    canHandle: base.canHandle,
    serialize({ value }: Thrown): [unknown, Transferable[]] {
      if (!(value instanceof Error)) return base.serialize({ value });
      const { code, previous } = value as { code?: unknown; previous?: unknown };
      const info = {
        name: value.name, message: value.message, stack: value.stack,
        ...(typeof code === 'string' ? { code } : {}),
        ...(typeof previous === 'string' ? { previous } : {}), // LoadFailureInfo
      };
      return [{ isError: true, value: info }, []];
    },
    deserialize: base.deserialize,
  } as Comlink.TransferHandler<Thrown, unknown>);
}
