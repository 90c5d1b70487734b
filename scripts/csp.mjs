// The app's Content-Security-Policy, one definition for the server (scripts/serve.mjs: a header on
// every response) and the build (vite.config.ts: a <meta> in index.html, for hosts that serve dist/
// without our headers). Scripts and workers come only from our origin; WASM may be compiled
// ('wasm-unsafe-eval', no eval of JS). connect-src is open to http: and https: because the user
// chooses where models are downloaded from and which llama-server (often plain HTTP on the LAN) the
// Remote engine talks to; injected code still cannot run, so there is nothing to exfiltrate with.

/** @type {Record<string, string[]>} */
export const CSP_DIRECTIVES = {
  'default-src': ["'self'"],
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  'worker-src': ["'self'"],
  'connect-src': ["'self'", 'http:', 'https:'],
  'img-src': ["'self'", 'data:'],
  'style-src': ["'self'"],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'form-action': ["'none'"],
  'frame-ancestors': ["'none'"],
};

/** Directives a <meta> policy cannot carry (the browser ignores them there, with a console error). */
const HEADER_ONLY = new Set(['frame-ancestors', 'report-uri', 'report-to', 'sandbox']);

function render(directives) {
  return Object.entries(directives).map(([k, v]) => `${k} ${v.join(' ')}`).join('; ');
}

/** The header value; `reportUri` adds a report-uri directive (the server collects violations there). */
export function cspHeader({ reportUri } = {}) {
  return render(reportUri ? { ...CSP_DIRECTIVES, 'report-uri': [reportUri] } : CSP_DIRECTIVES);
}

/** The same policy for <meta http-equiv="Content-Security-Policy">. */
export function cspMeta() {
  return render(Object.fromEntries(Object.entries(CSP_DIRECTIVES).filter(([k]) => !HEADER_ONLY.has(k))));
}
