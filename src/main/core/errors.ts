/**
 * A refusal the boundary answers with. `status` and `detail` are the wire contract
 * (SPEC §2–§3 texts); `code` is our stable, machine-readable name for it.
 */
export type RefusalCode =
  | 'invalid_request'
  | 'unknown_action'
  | 'not_allowed'
  | 'approval_required'
  | 'approval_invalid'
  | 'approval_used'
  | 'nonce_conflict'
  | 'handler_input'
  | 'invalid_payload'
  | 'definition_changed'
  | 'handler_failed'
  | 'not_found'
  | 'conflict';

export class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: RefusalCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'Refusal';
  }
}
