/**
 * The one table of error codes. Every refusal the boundary gives has a stable code; the table
 * says which HTTP status it is answered with and which console error code it becomes when the
 * console contract (IPC or `/console/*`) reports it. Nothing else in the code base chooses a
 * status or a code for a refusal: it names the refusal and looks the rest up here
 * (docs/protocol.md §3 lists what agents see).
 */

/** What the console contract reports, and the status `/console/*` answers it with. */
export const CONSOLE_ERRORS = {
  invalid_input: { status: 400 },
  unauthorized: { status: 401 },
  forbidden: { status: 403 },
  not_found: { status: 404 },
  conflict: { status: 409 },
  expired: { status: 410 },
  locked: { status: 423 },
  internal: { status: 500 },
  unavailable: { status: 503 },
} as const satisfies Record<string, { status: number }>;

export type ConsoleErrorCode = keyof typeof CONSOLE_ERRORS;
export const CONSOLE_ERROR_CODES = Object.keys(CONSOLE_ERRORS) as readonly ConsoleErrorCode[];

interface RefusalEntry {
  /** The HTTP status of the agent API (and of `/console/*` when the console reports it). */
  status: number;
  console: ConsoleErrorCode;
}

/** Every refusal: its HTTP status and its console error code. */
export const REFUSALS = {
  // The request itself.
  invalid_request: { status: 422, console: 'invalid_input' },
  bad_request: { status: 400, console: 'invalid_input' },
  body_too_large: { status: 413, console: 'invalid_input' },
  unsupported_media_type: { status: 415, console: 'invalid_input' },
  foreign_origin: { status: 403, console: 'forbidden' },
  unauthorized: { status: 401, console: 'unauthorized' },
  // What it asks for.
  unknown_action: { status: 400, console: 'invalid_input' },
  not_allowed: { status: 403, console: 'forbidden' },
  approval_required: { status: 403, console: 'forbidden' },
  approval_invalid: { status: 403, console: 'forbidden' },
  approval_used: { status: 403, console: 'forbidden' },
  nonce_conflict: { status: 409, console: 'conflict' },
  not_found: { status: 404, console: 'not_found' },
  conflict: { status: 409, console: 'conflict' },
  expired: { status: 410, console: 'expired' },
  locked: { status: 423, console: 'locked' },
  // How it ended.
  handler_input: { status: 400, console: 'invalid_input' },
  invalid_payload: { status: 422, console: 'invalid_input' },
  definition_changed: { status: 409, console: 'conflict' },
  handler_failed: { status: 500, console: 'internal' },
  internal: { status: 500, console: 'internal' },
  unavailable: { status: 503, console: 'unavailable' },
} as const satisfies Record<string, RefusalEntry>;

export type RefusalCode = keyof typeof REFUSALS;
export const REFUSAL_CODES = Object.keys(REFUSALS) as readonly RefusalCode[];

export function refusalStatus(code: RefusalCode): number {
  return REFUSALS[code].status;
}

export function consoleCodeOf(code: RefusalCode): ConsoleErrorCode {
  return REFUSALS[code].console;
}

export function consoleStatus(code: ConsoleErrorCode): number {
  return CONSOLE_ERRORS[code].status;
}

/**
 * The console code an HTTP status stands for, for answers that carry no `code` (a client of
 * `/console/*` reading a bare status). Each status in the table has exactly one console code.
 */
export function consoleCodeForStatus(status: number): ConsoleErrorCode {
  const entry = Object.values(REFUSALS).find((r) => r.status === status);
  return entry?.console ?? 'internal';
}
