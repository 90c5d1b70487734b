// The HTTP face of `cli serve`: llama-server's OpenAI-compatible routes over node:http.
// Every failure is an OpenAI-style error object; one model answers one request at a time (queue.ts);
// a client that hangs up stops its answer. CORS is open (*), so the app on another origin can use it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { EngineError } from '../shared/errors.ts';
import { ApiError, badRequest, toApiError } from './api-error.ts';
import { chatResponse, chatStream, textResponse, textStream, type ServedModel } from './completions.ts';
import { parseChatRequest, parseTextRequest } from './params.ts';
import { RequestQueue } from './queue.ts';

export interface OpenAIServerOptions {
  /** required as `Authorization: Bearer KEY` on everything but /health */
  apiKey?: string;
  /** request bodies above this are refused with 413 (default 8 MiB) */
  maxBodyBytes?: number;
  /** one line per request error worth a look (5xx) */
  log?: (line: string) => void;
}

export interface OpenAIServer {
  server: Server;
  /** the model answers from now on; until then /health and /v1/* say 503 (loading) */
  setModel(m: ServedModel): void;
  /** stops every answer, closes the connections and the listener */
  close(): Promise<void>;
}

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  // '*' alone does not cover Authorization (Fetch spec), so it is named too
  'Access-Control-Allow-Headers': 'Authorization, Content-Type, X-Api-Key, *',
  'Access-Control-Max-Age': '600',
};

/** A preflight is allowed every header it asks for: clients send their own (the openai package its x-stainless-*). */
function preflight(req: IncomingMessage, res: ServerResponse): void {
  const asked = req.headers['access-control-request-headers'];
  res.writeHead(204, { ...CORS, ...(asked ? { 'Access-Control-Allow-Headers': asked } : {}), Vary: 'Access-Control-Request-Headers' }).end();
}

type Handler = (res: ServerResponse, ctx: RequestContext) => Promise<void>;
interface RequestContext {
  model: ServedModel;
  /** aborted when the client hangs up */
  signal: AbortSignal;
  body: () => Promise<unknown>;
  /** runs `job` when the requests ahead of this one are done (one model, one KV cache) */
  inTurn: (job: () => Promise<void>) => Promise<void>;
}
interface Route { method: 'GET' | 'POST'; handler: Handler; open?: boolean }

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...CORS, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

function sendError(res: ServerResponse, e: ApiError, extra: Record<string, string> = {}): void {
  sendJson(res, e.status, e.body(), extra);
}

/**
 * The body as JSON, refused past `limit` bytes (413) or when it does not parse (400). An oversized
 * body is still read to its end (and dropped), up to 16× the limit: a client still sending when the
 * connection closes sees a broken pipe, not the 413.
 */
function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    req.on('data', (b: Buffer) => {
      size += b.length;
      if (size <= limit) parts.push(b);
      else if (size > 16 * limit) req.destroy();
    });
    req.on('error', reject);
    // after 'end' this changes nothing; before it, the client is gone (or was cut off past 16× the limit)
    req.on('close', () => reject(new EngineError('ABORTED', 'The connection closed before the request body was complete.')));
    req.on('end', () => {
      if (size > limit) { reject(new ApiError(413, 'invalid_request_error', `The request body is larger than ${limit} bytes.`)); return; }
      const text = Buffer.concat(parts).toString('utf8');
      try {
        resolve(JSON.parse(text));
      } catch (e) {
        reject(badRequest(`The request body is not valid JSON: ${(e as Error).message}`));
      }
    });
  });
}

function authorized(req: IncomingMessage, key: string): boolean {
  const h = req.headers.authorization ?? req.headers['x-api-key'];
  const given = Buffer.from(typeof h === 'string' ? h.replace(/^Bearer /, '') : '');
  const want = Buffer.from(key);
  return given.length === want.length && timingSafeEqual(given, want);
}

/** Server-sent events: `data: {json}` per object, then `data: [DONE]`; an error after the head goes as an error event. */
async function sendStream(res: ServerResponse, events: AsyncGenerator<object>): Promise<void> {
  // the first object is awaited before the head goes out, so a bad prompt is still a plain 400
  let next = await events.next();
  res.writeHead(200, { ...CORS, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
  try {
    for (; !next.done; next = await events.next()) {
      if (res.destroyed) { await events.return(undefined); return; }
      res.write(`data: ${JSON.stringify(next.value)}\n\n`);
    }
    if (!res.destroyed) res.end('data: [DONE]\n\n');
  } catch (e) {
    if (!res.destroyed) res.end(`data: ${JSON.stringify(toApiError(e).body())}\n\n`);
  }
}

/**
 * A completion route: the body is checked before the request queues (a bad one is answered at once,
 * not after the answers ahead of it), then answered in its turn, streamed or as one object.
 */
function completionRoute<R extends { stream: boolean }>(parse: (body: unknown, vocabSize: number) => R,
  stream: (m: ServedModel, r: R, signal: AbortSignal) => AsyncGenerator<object>,
  whole: (m: ServedModel, r: R, signal: AbortSignal) => Promise<object | null>): Handler {
  return async (res, ctx) => {
    const r = parse(await ctx.body(), ctx.model.vocabSize);
    await ctx.inTurn(async () => {
      if (r.stream) return sendStream(res, stream(ctx.model, r, ctx.signal));
      const out = await whole(ctx.model, r, ctx.signal);
      if (out) sendJson(res, 200, out);
    });
  };
}

const chat = completionRoute(parseChatRequest, chatStream, chatResponse);
const text = completionRoute(parseTextRequest, textStream, textResponse);

const models: Handler = async (res, { model }) => {
  sendJson(res, 200, {
    object: 'list',
    data: [{ id: model.id, object: 'model', created: model.created, owned_by: 'edge-llm-web', meta: { n_ctx: model.nCtx, n_vocab: model.vocabSize } }],
  });
};

const health: Handler = async (res) => sendJson(res, 200, { status: 'ok' });

// llama-server's /props, the parts clients read: the chat template (the app offers its Think toggle
// when the template reads enable_thinking), the context size, the model's name
const props: Handler = async (res, { model }) => {
  sendJson(res, 200, {
    // llama.cpp's field holds Jinja; an MLC conv_template has none to show
    chat_template: typeof model.target.template?.template === 'string' ? model.target.template.template : '',
    model_alias: model.id,
    default_generation_settings: { n_ctx: model.nCtx },
    total_slots: 1,
  });
};

// llama-server's paths, with and without the /v1 prefix
const ROUTES: Record<string, Route> = {
  '/health': { method: 'GET', handler: health, open: true },
  '/v1/health': { method: 'GET', handler: health, open: true },
  '/v1/models': { method: 'GET', handler: models },
  '/props': { method: 'GET', handler: props },
  '/models': { method: 'GET', handler: models },
  '/v1/chat/completions': { method: 'POST', handler: chat },
  '/chat/completions': { method: 'POST', handler: chat },
  '/v1/completions': { method: 'POST', handler: text },
  '/completions': { method: 'POST', handler: text },
};

export function createOpenAIServer(opts: OpenAIServerOptions = {}): OpenAIServer {
  const limit = opts.maxBodyBytes ?? 8 * 2 ** 20;
  const queue = new RequestQueue();
  const running = new Set<AbortController>();
  let model: ServedModel | null = null;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '') || '/';
    if (req.method === 'OPTIONS') return preflight(req, res);
    const route = ROUTES[path];
    if (!route) return sendError(res, new ApiError(404, 'not_found_error', `No route ${req.method} ${path}.`));
    if (req.method !== route.method && !(route.method === 'GET' && req.method === 'HEAD')) {
      return sendError(res, new ApiError(405, 'invalid_request_error', `${path} takes ${route.method}, not ${req.method}.`), { Allow: `${route.method}, OPTIONS` });
    }
    if (!model) return sendError(res, new ApiError(503, 'unavailable_error', 'Loading model'));
    if (opts.apiKey !== undefined && !route.open && !authorized(req, opts.apiKey)) {
      return sendError(res, new ApiError(401, 'authentication_error', 'Invalid API Key'));
    }
    // a client that hangs up (or whose connection drops) stops its answer, queued or running
    const ctrl = new AbortController();
    res.on('close', () => { if (!res.writableEnded) ctrl.abort(); });
    const ctx: RequestContext = {
      model, signal: ctrl.signal, body: () => readJson(req, limit),
      inTurn: async (job) => {
        running.add(ctrl);
        try {
          await queue.run(job, ctrl.signal);
        } finally {
          running.delete(ctrl);
        }
      },
    };
    await route.handler(res, ctx);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const err = toApiError(e);
      if (err.status >= 500 && !(e instanceof EngineError && e.code === 'ABORTED')) opts.log?.(`${req.method} ${req.url}: ${err.message}`);
      if (res.destroyed) return;
      sendError(res, err);
    });
  });

  return {
    server,
    setModel(m) { model = m; },
    async close() {
      for (const c of running) c.abort();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await queue.drain();
    },
  };
}
