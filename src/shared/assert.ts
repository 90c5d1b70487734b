import { EngineError, type ErrorCode } from './errors.ts';

/** Throws a typed EngineError when `cond` is false. */
export function check(cond: unknown, code: ErrorCode, message: string | (() => string)): asserts cond {
  if (!cond) throw new EngineError(code, typeof message === 'string' ? message : message());
}
