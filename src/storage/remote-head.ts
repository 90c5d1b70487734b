// The start of a remote file without its body, so a download can be refused before it begins: one
// Range request for the first MiB, then only the missing bytes when the header is larger (a
// 262k-token vocabulary makes ~10 MB of metadata). A server that ignores Range sends the whole
// file; its stream is read only as far as the header needs and then cancelled.
import type { ByteSource } from '../formats/byte-source.ts';
import { checkRange } from '../formats/range.ts';
import { EngineError } from '../shared/errors.ts';
import { abortError, HttpError, InterruptedError } from './storage-errors.ts';

export const HEAD_PROBE_BYTES = 1 << 20;

export interface HeadRequest {
  url: string;
  /** file name for messages */
  name: string;
  fetchImpl: typeof fetch;
  signal?: AbortSignal;
}

export interface RemoteHead {
  /** the file's size as the server announced it (Content-Range, else Content-Length) */
  total: number | undefined;
  /** a ByteSource over the first bytes of a file of `size` bytes; reads fetch what is missing */
  source(size: number): ByteSource;
  /** cancels whatever of the response is still unread */
  close(): Promise<void>;
}

async function get(req: HeadRequest, range: string): Promise<Response> {
  try {
    return await req.fetchImpl(req.url, { headers: { Range: range }, signal: req.signal, cache: 'no-store' });
  } catch (e) {
    if (req.signal?.aborted) throw abortError(`Downloading ${req.name}`);
    throw new InterruptedError(`Cannot reach ${req.url}: ${(e as Error).message}`, { cause: e });
  }
}

async function body(req: HeadRequest, res: Response): Promise<Uint8Array> {
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    if (req.signal?.aborted) throw abortError(`Downloading ${req.name}`);
    throw new InterruptedError(`${req.url}: the connection was lost while reading the model's header.`, { cause: e });
  }
}

function contentRange(res: Response): { start: number; total?: number } | undefined {
  const m = /^bytes\s+(\d+)-(\d+)\/(\d+|\*)$/i.exec(res.headers.get('Content-Range')?.trim() ?? '');
  return m ? { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) } : undefined;
}

function contentLength(res: Response): number | undefined {
  const h = res.headers.get('Content-Length');
  const n = h === null ? NaN : Number(h);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

/** One Range request for the first HEAD_PROBE_BYTES; HTTP errors are thrown as HttpError. */
export async function openRemoteHead(req: HeadRequest): Promise<RemoteHead> {
  const res = await get(req, `bytes=0-${HEAD_PROBE_BYTES - 1}`);
  if (res.status === 206) {
    const range = contentRange(res);
    if (!range || range.start !== 0) {
      await res.body?.cancel().catch(() => {});
      throw new EngineError('IO', `Download failed: ${req.url} answered with an unexpected byte range.`);
    }
    return ranged(req, await body(req, res), range.total);
  }
  if (res.ok) return streamed(req, res);
  await res.body?.cancel().catch(() => {});
  if (res.status === 416) return ranged(req, new Uint8Array(0), 0); // no byte 0: the file is empty
  throw new HttpError(req.url, res.status, res.statusText);
}

function ranged(req: HeadRequest, first: Uint8Array, total: number | undefined): RemoteHead {
  let have = first;
  return {
    total,
    source: (size) => ({
      size,
      name: req.name,
      async read(offset, length) {
        checkRange(req.name, size, offset, length);
        const end = offset + length;
        if (end > have.length) {
          const res = await get(req, `bytes=${have.length}-${end - 1}`);
          if (res.status !== 206 || contentRange(res)?.start !== have.length) {
            await res.body?.cancel().catch(() => {});
            throw new EngineError('IO', `Download failed: ${req.url} answered a range request with HTTP ${res.status}.`);
          }
          const more = await body(req, res);
          if (more.length < end - have.length) {
            throw new InterruptedError(`${req.url} sent ${more.length} bytes of the ${end - have.length} asked for.`);
          }
          have = concat([have, more.subarray(0, end - have.length)]);
        }
        return have.subarray(offset, end);
      },
    }),
    close: async () => {},
  };
}

function streamed(req: HeadRequest, res: Response): RemoteHead {
  const reader = res.body?.getReader();
  let have: Uint8Array = new Uint8Array(0);
  return {
    total: contentLength(res),
    source: (size) => ({
      size,
      name: req.name,
      async read(offset, length) {
        checkRange(req.name, size, offset, length);
        const parts: Uint8Array[] = [have];
        for (let got = have.length; got < offset + length;) {
          let next: ReadableStreamReadResult<Uint8Array> | undefined;
          try {
            next = await reader?.read();
          } catch (e) {
            if (req.signal?.aborted) throw abortError(`Downloading ${req.name}`);
            throw new InterruptedError(`${req.url}: the connection was lost while reading the model's header.`, { cause: e });
          }
          if (!next || next.done) throw new InterruptedError(`${req.url}: the data ended after ${got} bytes.`);
          parts.push(next.value);
          got += next.value.length;
        }
        if (parts.length > 1) have = concat(parts);
        return have.subarray(offset, offset + length);
      },
    }),
    close: async () => { await reader?.cancel().catch(() => {}); },
  };
}
