import { refusalStatus, type RefusalCode } from '../../shared/error-codes.ts';

export type { RefusalCode } from '../../shared/error-codes.ts';

/**
 * A refusal the boundary answers with. `code` is our stable, machine-readable name for it;
 * `detail` is the wire text (protocol §2–§3); `status` comes from the one table of codes
 * (src/shared/error-codes.ts), never from the place that refuses.
 */
export class Refusal extends Error {
  readonly status: number;

  constructor(
    readonly code: RefusalCode,
    readonly detail: string,
  ) {
    super(detail);
    this.name = 'Refusal';
    this.status = refusalStatus(code);
  }
}
