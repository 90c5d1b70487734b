// OpenAI-style error objects ({error:{message,type,param,code}}), with llama-server's numeric code
// (the HTTP status) so clients written against either read them the same way.
import { isEngineError } from '../shared/errors.ts';

export type ApiErrorType =
  | 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'server_error' | 'unavailable_error';

export class ApiError extends Error {
  constructor(readonly status: number, readonly type: ApiErrorType, message: string, readonly param: string | null = null) {
    super(message);
    this.name = 'ApiError';
  }

  body(): { error: { message: string; type: ApiErrorType; param: string | null; code: number } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }
}

export const badRequest = (message: string, param: string | null = null): ApiError =>
  new ApiError(400, 'invalid_request_error', message, param);

/** Engine errors a request caused (its prompt, its parameters) are the client's; the rest are ours. */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  if (isEngineError(e)) {
    const client = e.code === 'BAD_ARGUMENT' || e.code === 'CONTEXT_FULL' || e.code === 'TEMPLATE' || e.code === 'GRAMMAR' || e.code === 'TOKENIZER' || e.code === 'TOOLS';
    // a ToolsError names the parameter
    const param = typeof (e as { param?: unknown }).param === 'string' ? (e as unknown as { param: string }).param : null;
    return new ApiError(client ? 400 : 500, client ? 'invalid_request_error' : 'server_error', e.message, param);
  }
  return new ApiError(500, 'server_error', `Internal error: ${(e as Error)?.message ?? String(e)}`);
}
