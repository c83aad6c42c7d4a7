import type { ProposalRecords } from '../store/proposal-records.ts';
import type { ActionRegistry } from '../actions/action-registry.ts';
import type { QuorumDto } from '../../../shared/console-dto.ts';

/**
 * Who has approved a proposal whose action needs a quorum of operators, for the console: each
 * approval's operator name and key id, in order, and how many distinct keys the action needs.
 */
export class QuorumView {
  constructor(
    private readonly records: ProposalRecords,
    private readonly registry: ActionRegistry,
  ) {}

  /** The quorum state of a proposal for `action`, or undefined when the action needs one operator. */
  async of(proposalId: string, action: string): Promise<QuorumDto | undefined> {
    const needed = this.registry.get(action)?.quorum ?? 1;
    if (needed <= 1) return undefined;
    return { needed, approvals: await this.records.approvalsOf(proposalId) };
  }
}
