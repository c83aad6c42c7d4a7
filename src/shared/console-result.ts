/**
 * Errors cross process boundaries as values with stable codes: an exception thrown in an
 * IPC handler reaches the renderer as a bare string, so nothing here relies on throw.
 * The codes, and the HTTP status of each, are in the one table of ./error-codes.ts.
 */
import type { ConsoleErrorCode } from './error-codes';

export { CONSOLE_ERROR_CODES, type ConsoleErrorCode } from './error-codes';

export interface ConsoleError {
  code: ConsoleErrorCode;
  message: string;
}

export type ConsoleResult<T> = { ok: true; value: T } | { ok: false; error: ConsoleError };

export function ok<T>(value: T): ConsoleResult<T> {
  return { ok: true, value };
}

export function fail<T = never>(code: ConsoleErrorCode, message: string): ConsoleResult<T> {
  return { ok: false, error: { code, message } };
}
