import type { Server } from 'node:http';

export function parseRange(header: string | undefined, size: number): { start: number; end: number } | null | undefined;
export function serve(opts?: { root?: string; port?: number; host?: string }): Promise<{ server: Server; url: string }>;
