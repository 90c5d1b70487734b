// Page side of harness.test.ts: proves TS modules load, WebGPU is reachable and ranges work.
import { urlSource } from '../../../src/formats/url-source.ts';

export async function probe(fileUrl: string): Promise<{ secure: boolean; adapter: string | null; head: number[]; size: number }> {
  const adapter = await navigator.gpu?.requestAdapter();
  const src = await urlSource(fileUrl);
  const head = [...(await src.read(0, 4))];
  (globalThis as unknown as { __harnessWrite(s: string, t: string): void }).__harnessWrite('stdout', 'hello from the page\n');
  return { secure: isSecureContext && crossOriginIsolated, adapter: adapter ? adapter.info.architecture : null, head, size: src.size };
}

export async function fail(): Promise<never> {
  throw new Error('deliberate failure');
}

export function hang(): Promise<never> {
  return new Promise(() => undefined);
}
