// What went wrong with a remote OpenAI-compatible server, as EngineErrors a person can act on: every
// message names the server and says what to do. The remote engine calls these; nothing else does.
import { EngineError } from '../shared/errors.ts';

export interface RemoteContext {
  /** the normalised base URL (…/v1) */
  base: string;
  model?: string;
  hasKey: boolean;
}

/** The message inside an error body: OpenAI's {error:{message}}, llama.cpp's, vLLM's {message}, FastAPI's {detail}, or plain text. */
export function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown };
    const e = j.error as { message?: unknown } | string | undefined;
    const msg = typeof e === 'string' ? e : typeof e?.message === 'string' ? e.message : j.message ?? j.detail;
    if (typeof msg === 'string') return msg;
    if (msg !== undefined) return JSON.stringify(msg);
  } catch { /* not JSON */ }
  return body.trim().slice(0, 200);
}

/** An HTTP error status from the server. */
export function httpError(status: number, body: string, url: string, ctx: RemoteContext): EngineError {
  const msg = errorText(body);
  const said = msg ? `: ${msg}` : '';
  if (status === 401 || status === 403) {
    return new EngineError('REMOTE_UNAUTHORIZED', ctx.hasKey
      ? `${ctx.base} refused the API key (${status}${said}). Enter the key the server was started with (llama-server --api-key).`
      : `${ctx.base} needs an API key (${status}${said}). Enter the key the server was started with (llama-server --api-key).`);
  }
  const aboutModel = /model/i.test(msg) && (status === 404 || /not found|does not exist|unknown|no such|not available/i.test(msg));
  if (ctx.model && (status === 404 || status === 400) && aboutModel) {
    return new EngineError('REMOTE_MODEL_MISSING',
      `${ctx.base} does not have the model "${ctx.model}" (${status}${said}). Connect again and pick one of the models it lists.`);
  }
  if (status === 404) {
    return new EngineError('REMOTE_FAILED',
      `${url} does not exist (404${said}). Check the address: it should point at an OpenAI-compatible API (usually ending in /v1).`);
  }
  if (status === 503) {
    return new EngineError('REMOTE_FAILED',
      `${ctx.base} is not ready (503${said}). llama-server answers this while it loads the model: try again in a moment.`);
  }
  return new EngineError('REMOTE_FAILED', `${ctx.base} failed the request (HTTP ${status}${said}). Check the server's log, then try again.`);
}

/** How the server looks after fetch() failed without a response. */
export type Probe = 'cors-ok' | 'opaque' | 'down';

/**
 * fetch() rejected before any response: offline, nothing listening, or (in a browser) a response the
 * page may not read — CORS. The browser hides which on purpose, so a probe tells them apart where it
 * can: a plain GET (no preflight) that succeeds means the server is up and only the request's headers
 * were refused; a no-cors GET that succeeds means the server is up but sends no CORS headers. A
 * cross-origin-isolated page (this app: COEP require-corp) cannot see no-cors answers without CORP, so
 * a server without CORS can look down there; the unreachable message says so.
 */
export function connectError(cause: unknown, ctx: RemoteContext, probe: Probe): EngineError {
  const origin = (globalThis as { location?: { origin?: string } }).location?.origin;
  const detail = errorDetail(cause);
  if ((globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false) {
    return new EngineError('OFFLINE', `You are offline, so ${ctx.base} cannot be reached. Connect to the network (or chat on this device) and try again.`, { cause });
  }
  if (origin && probe === 'cors-ok') {
    return new EngineError('REMOTE_CORS',
      `${ctx.base} is up, but the browser blocked the request: the server's CORS answer does not allow ${ctx.hasKey ? 'the Authorization header (an API key) or ' : ''}the JSON Content-Type from ${origin}. ` +
      'Allow them on the server: llama-server allows every header unless --cors-headers narrows it (some browsers do not count Authorization under "*": list it, --cors-headers "Authorization, Content-Type").', { cause });
  }
  if (origin && probe === 'opaque') {
    return new EngineError('REMOTE_CORS',
      `${ctx.base} is up, but it does not allow this page (${origin}) to read its answers (no CORS headers). ` +
      'llama-server sends them unless --cors-origins excludes this origin; vLLM needs --allowed-origins, Ollama OLLAMA_ORIGINS.', { cause });
  }
  const corsHint = origin
    ? ' If it is running, it may refuse this page\'s origin (CORS): llama-server allows every origin by default, vLLM needs --allowed-origins, Ollama OLLAMA_ORIGINS.'
    : '';
  return new EngineError('REMOTE_UNREACHABLE',
    `Cannot reach ${ctx.base}${detail}. Check that the server is running, the address and port are right and this device can reach it (same network, firewall).${corsHint}`, { cause });
}

/** The stream stopped: an error object from the server, or the connection ended before the answer did. */
export function streamError(ctx: RemoteContext, what: { serverSaid?: string; cause?: unknown }): EngineError {
  if (what.serverSaid !== undefined) {
    return new EngineError('REMOTE_FAILED', `${ctx.base} failed mid-answer: ${what.serverSaid}. The text so far is kept; check the server and send again.`);
  }
  return new EngineError('REMOTE_FAILED',
    `The connection to ${ctx.base} ended before the answer was finished${errorDetail(what.cause)} — did the server stop? The text so far is kept; check the server and send again.`,
    { cause: what.cause });
}

/** Node's fetch hides the reason in cause (ECONNREFUSED …); browsers say nothing more than "Failed to fetch". */
function errorDetail(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code ? ` (${code})` : '';
}
