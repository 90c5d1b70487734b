// One Web Lock per model id serialises every write to that model's IndexedDB entry (download,
// resume, import, conversion, delete) across every tab and worker of the origin. The browser
// releases a lock when its holder dies (tab closed, worker terminated), so a writer that vanished
// mid-download never blocks the model: what it stored stays a resumable partial (shard-cache.ts
// only counts chunks in the transaction that writes them).
// Where navigator.locks is missing (Node, the CLI) one process is the only writer: an in-process
// queue gives the same semantics.
// A second, shared lock per model marks it as loaded in some tab (holdModelInUse), so a delete in
// another tab is refused instead of pulling the weights from under a running model.
import { ModelBusyError } from './storage-errors.ts';

export const modelLockName = (id: string): string => `edge-llm:model:${id}`;
/** Held shared by every tab that has the model loaded; a delete needs it free. */
export const modelUseLockName = (id: string): string => `edge-llm:model-use:${id}`;

interface LockOptions { ifAvailable?: boolean; signal?: AbortSignal; mode?: 'shared' | 'exclusive' }
type Locks = { request<T>(name: string, opts: LockOptions, fn: (lock: unknown) => Promise<T>): Promise<T> };

/** A minimal exclusive-only LockManager for one process. */
class LocalLocks implements Locks {
  private readonly tails = new Map<string, Promise<void>>();
  private readonly held = new Set<string>();

  async request<T>(name: string, opts: LockOptions, fn: (lock: unknown) => Promise<T>): Promise<T> {
    if (opts.ifAvailable && (this.held.has(name) || this.tails.has(name))) return fn(null);
    const before = this.tails.get(name) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((r) => { release = r; });
    const tail = before.then(() => mine);
    this.tails.set(name, tail);
    try {
      await before;
      opts.signal?.throwIfAborted();
      this.held.add(name);
      return await fn({ name });
    } finally {
      this.held.delete(name);
      release();
      if (this.tails.get(name) === tail) this.tails.delete(name);
    }
  }
}

let local: LocalLocks | undefined;
function locks(): Locks {
  const web = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
  return web ?? (local ??= new LocalLocks());
}

/** Runs `fn` holding the model's lock, waiting while another writer holds it. */
export function withModelLock<T>(id: string, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
  return locks().request(modelLockName(id), signal ? { signal } : {}, () => fn());
}

/** Runs `fn` holding the model's lock if nobody holds it now; `{ busy: true }` otherwise. */
export async function tryModelLock<T>(id: string, fn: () => Promise<T>): Promise<{ busy: false; value: T } | { busy: true }> {
  return locks().request(modelLockName(id), { ifAvailable: true }, async (lock) => (
    lock ? { busy: false as const, value: await fn() } : { busy: true as const }));
}

/** Like tryModelLock, but a model someone else is writing is refused with ModelBusyError. */
export async function exclusiveModelWrite<T>(id: string, name: string, fn: () => Promise<T>): Promise<T> {
  const r = await tryModelLock(id, fn);
  if (r.busy) throw new ModelBusyError(name);
  return r.value;
}

/** Resolves once nobody holds the model's lock (it is taken and given back at once). */
export function whenModelUnlocked(id: string, signal?: AbortSignal): Promise<void> {
  return withModelLock(id, async () => {}, signal);
}

/**
 * Marks the model as loaded in this tab until the returned function is called. Without Web Locks
 * (Node, the CLI) there are no other tabs, so nothing is held.
 */
export function holdModelInUse(id: string): () => void {
  const web = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
  if (!web) return () => {};
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  // shared: any number of tabs may run it; only a delete asks for it exclusively
  void web.request(modelUseLockName(id), { mode: 'shared' }, () => held).catch(() => {});
  return release;
}

/** exclusiveModelWrite for a delete: also refused while another tab has the model loaded. */
export async function exclusiveModelDelete<T>(id: string, name: string, fn: () => Promise<T>): Promise<T> {
  const web = (globalThis.navigator as { locks?: Locks } | undefined)?.locks;
  if (!web) return exclusiveModelWrite(id, name, fn);
  return web.request(modelUseLockName(id), { ifAvailable: true }, async (lock) => {
    if (!lock) throw new ModelBusyError(name, 'in-use');
    return exclusiveModelWrite(id, name, fn);
  });
}
