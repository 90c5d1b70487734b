import type { Server } from 'node:http';

export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | undefined;
export const CSP_REPORT_PATH: string;
/** One CSP violation report body (legacy csp-report keys or Reporting API keys). */
export type CspViolation = Record<string, unknown>;
export function serve(opts?: { root?: string; port?: number; host?: string; onCspViolation?: (r: CspViolation) => void }): Promise<{ server: Server; url: string }>;
