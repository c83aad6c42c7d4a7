import type { SqliteDatabase } from '../store/database.ts';
import type { ActionRegistry } from '../actions/action-registry.ts';
import type { QuorumDto } from '../../../shared/console-dto.ts';

/**
 * Who has approved a proposal whose action needs a quorum of operators, for the console: each
 * approval's operator name and key id, in order, and how many distinct keys the action needs.
 */
export class QuorumView {
  private readonly approvals;

  constructor(
    db: SqliteDatabase,
    private readonly registry: ActionRegistry,
  ) {
    this.approvals = db.prepare(
      'SELECT operator, key_id AS keyId, approved_at AS approvedAt FROM proposal_approvals WHERE proposal_id = ? ORDER BY receipt_seq',
    );
  }

  /** The quorum state of a proposal for `action`, or undefined when the action needs one operator. */
  of(proposalId: string, action: string): QuorumDto | undefined {
    const needed = this.registry.get(action)?.quorum ?? 1;
    if (needed <= 1) return undefined;
    return { needed, approvals: this.approvals.all(proposalId) as QuorumDto['approvals'] };
  }
}
