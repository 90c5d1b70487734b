// What the app stored for a model, read straight from IndexedDB in the page (not through the app),
// and a padded GGUF large enough that its download takes a few seconds on the slow route.
// (models.e2e.ts keeps its own copies of paddedModel/storedSha256; they can move here.)
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright';
import { FIXTURES } from './harness.ts';

/** stories260K followed by pseudo-random padding: a valid GGUF of `size` bytes. */
export function paddedModel(size: number): Uint8Array {
  const out = new Uint8Array(size);
  out.set(readFileSync(path.join(FIXTURES, 'models/stories260K.gguf')));
  let x = 0x9e3779b9;
  for (let i = 1185376; i < size; i++) {
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export interface RawModel {
  manifest?: { complete: boolean; files: { size: number; chunks: number }[] };
  /** chunk keys of file 0, in chunk order */
  chunkKeys: string[];
  /** SHA-256 of the chunks of file 0 joined, hex */
  sha256: string;
}

export function rawModel(page: Page, id: string): Promise<RawModel> {
  return page.evaluate((modelId) => new Promise<RawModel>((resolve, reject) => {
    const open = indexedDB.open('edge-llm-models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const store = open.result.transaction('shards').objectStore('shards');
      const manifest = store.get(`manifest:${modelId}`);
      const keys = store.getAllKeys(IDBKeyRange.bound(`${modelId}/0/`, `${modelId}/0/\uffff`));
      const values = store.getAll(IDBKeyRange.bound(`${modelId}/0/`, `${modelId}/0/\uffff`));
      values.onsuccess = async () => {
        const order = (keys.result as string[]).map((k, i) => ({ k, v: values.result[i] as Uint8Array, n: Number(k.split('/')[2]) }))
          .sort((a, b) => a.n - b.n);
        const all = new Uint8Array(order.reduce((n, p) => n + p.v.length, 0));
        let o = 0;
        for (const p of order) { all.set(p.v, o); o += p.v.length; }
        const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
        resolve({
          manifest: manifest.result as RawModel['manifest'],
          chunkKeys: order.map((p) => p.k),
          sha256: Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''),
        });
      };
      values.onerror = () => reject(values.error);
    };
  }), id);
}
