// ByteSource over HTTP range requests: the model is never fetched whole just to read a tensor.
import { EngineError } from '../shared/errors.ts';
import type { ByteSource } from './byte-source.ts';
import { checkRange } from './range.ts';

export async function urlSource(url: string, fetchImpl: typeof fetch = fetch): Promise<ByteSource> {
  const name = url.split('/').pop()?.split('?')[0] || url;
  let res: Response;
  try {
    res = await fetchImpl(url, { headers: { Range: 'bytes=0-0' } });
  } catch (e) {
    throw new EngineError('IO', `Cannot reach ${url}: ${(e as Error).message}`, { cause: e });
  }
  if (res.status !== 206) {
    await res.body?.cancel();
    throw new EngineError('IO', res.ok
      ? `${url} does not support HTTP range requests, so it cannot be read in pieces.`
      : `${url} answered HTTP ${res.status}.`);
  }
  const total = Number(/\/(\d+)$/.exec(res.headers.get('Content-Range') ?? '')?.[1]);
  await res.body?.cancel();
  if (!Number.isSafeInteger(total)) throw new EngineError('IO', `${url} sent no usable Content-Range header.`);
  return {
    size: total,
    name,
    async read(offset, length) {
      checkRange(name, total, offset, length);
      if (length === 0) return new Uint8Array(0);
      const r = await fetchImpl(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
      if (r.status !== 206) throw new EngineError('IO', `${url} answered HTTP ${r.status} to a range request.`);
      const buf = new Uint8Array(await r.arrayBuffer());
      if (buf.length !== length) throw new EngineError('IO', `${url} returned ${buf.length} bytes instead of ${length}.`);
      return buf;
    },
  };
}
