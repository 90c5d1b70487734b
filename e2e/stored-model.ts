// Model bytes for download tests and direct reads of what the app stored in IndexedDB (not
// through the app), shared by the download, storage-chaos, two-tabs and worker-crash e2e files.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright';
import { FIXTURES } from './harness.ts';

export const MiB = 1024 * 1024;

/** stories260K followed by pseudo-random padding: a valid GGUF larger than two 16 MiB storage chunks. */
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

/** SHA-256 of what IndexedDB holds for file 0 of a model, read from the raw chunks in the page. */
export function storedSha256(page: Page, id: string): Promise<string> {
  return page.evaluate((modelId) => new Promise<string>((resolve, reject) => {
    const open = indexedDB.open('edge-llm-models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const store = open.result.transaction('shards').objectStore('shards');
      const keys = store.getAllKeys(IDBKeyRange.bound(`${modelId}/0/`, `${modelId}/0/\uffff`));
      keys.onsuccess = () => {
        const sorted = (keys.result as string[]).sort((a, b) => Number(a.split('/')[2]) - Number(b.split('/')[2]));
        const values = sorted.map((k) => store.get(k));
        let left = values.length;
        for (const v of values) {
          v.onsuccess = async () => {
            if (--left > 0) return;
            const parts = values.map((r) => r.result as Uint8Array);
            const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
            let o = 0;
            for (const p of parts) { all.set(p, o); o += p.length; }
            const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', all));
            resolve(Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join(''));
          };
        }
      };
    };
  }), id);
}

/** A model's manifest as IndexedDB holds it (undefined when none). */
export function storedManifest(page: Page, id: string): Promise<{ complete: boolean; files: { chunks: number; sha256?: string; expectedSha256?: string }[] } | undefined> {
  return page.evaluate((modelId) => new Promise((resolve, reject) => {
    const open = indexedDB.open('edge-llm-models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = open.result.transaction('shards').objectStore('shards').get(`manifest:${modelId}`);
      req.onsuccess = () => { open.result.close(); resolve(req.result); };
      req.onerror = () => reject(req.error);
    };
  }), id);
}

/** Deletes one stored chunk behind the app's back, as a browser evicting data would. */
export function deleteStoredKey(page: Page, key: string): Promise<void> {
  return page.evaluate((k) => new Promise<void>((resolve, reject) => {
    const open = indexedDB.open('edge-llm-models');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction('shards', 'readwrite');
      tx.objectStore('shards').delete(k);
      tx.oncomplete = () => { open.result.close(); resolve(); };
      tx.onerror = () => reject(tx.error);
    };
  }), key);
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
