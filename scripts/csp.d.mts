export const CSP_DIRECTIVES: Record<string, string[]>;
export function cspHeader(opts?: { reportUri?: string }): string;
export function cspMeta(): string;
