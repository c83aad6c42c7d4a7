import { Refusal } from '../errors.ts';
import type { Ed25519Signer } from '../crypto/ed25519.ts';
import type { ProposalRecords } from '../store/proposal-records.ts';
import { mintOperatorApproval } from './operator-approval.ts';
import type { ProposalCore } from './proposal-core.ts';
import { executeProposal } from './proposal-execution.ts';
import type { ProposalPublisher } from './proposal-publisher.ts';
import { approvedReceipt } from './proposal-receipts.ts';
import type { ProposalRow } from './proposal-store.ts';
import { StaleDecision, witnessDecision } from './stale-decision.ts';

/** What the approval path uses of the ProposalService around it. */
export interface ApprovalContext {
  readonly core: ProposalCore;
  readonly records: ProposalRecords;
  readonly publisher: Pick<ProposalPublisher, 'changed'>;
  readonly tenantId: string | null;
  /** The proposal as it stands now, refused unless it still waits for a decision. */
  pendingOrRefuse(id: string): Promise<ProposalRow>;
}

/**
 * How a pending proposal comes to execute at this instance: an operator's approval (counted
 * towards the action's quorum, the one that completes it executing) or a live grant. One at a
 * time per proposal here; another instance's attempt is settled by the witnessed writes.
 */
export class ProposalApproval {
  /** Proposals this instance is approving or executing under a grant right now. */
  private readonly approving = new Set<string>();

  constructor(private readonly context: ApprovalContext) {}

  /**
   * Approves with the named operator's key. For an action that needs a quorum, an approval
   * short of it is recorded (an `approved` receipt) and the proposal stays pending; the one
   * that completes it executes. The same key twice counts once.
   */
  async approve(id: string, operator: string): Promise<ProposalRow> {
    const { core, records } = this.context;
    const row = await this.context.pendingOrRefuse(id);
    const signer = await core.operators.get(operator);
    if (!signer) throw new Refusal('not_found', `No operator '${operator}' (see openexec operators add)`);
    // A second click while the first approval is on its way must not sign a second artifact.
    if (this.approving.has(id)) throw new Refusal('conflict', `Proposal ${id} is already being approved`);
    this.approving.add(id);
    try {
      const quorum = core.registry.get(row.action)?.quorum ?? 1;
      const keys = await records.approvalKeys(id);
      if (keys.includes(signer.keyId)) {
        throw new Refusal(
          'conflict',
          `Proposal ${id} is already approved by operator key ${signer.keyId}; it needs ${quorum} distinct operator keys`,
        );
      }
      return await this.approvePending(row, operator, signer, quorum, keys.length + 1);
    } finally {
      this.approving.delete(id);
    }
  }

  /**
   * Executes a proposal a live grant covers, under that grant (no new decision), and publishes
   * it as it then stands; undefined, with nothing done, while it is being approved or executed here.
   */
  async executeGranted(proposal: ProposalRow, agent: string | null): Promise<ProposalRow | undefined> {
    const { core, records } = this.context;
    if (this.approving.has(proposal.id)) return undefined;
    this.approving.add(proposal.id);
    try {
      await executeProposal(core, records, proposal, null, agent);
    } finally {
      this.approving.delete(proposal.id);
    }
    const after = (await records.get(proposal.id))!;
    await this.context.publisher.changed(after);
    return after;
  }

  private async approvePending(
    row: ProposalRow,
    operator: string,
    signer: Ed25519Signer,
    quorum: number,
    count: number,
  ): Promise<ProposalRow> {
    const { core, records, publisher } = this.context;
    const id = row.id;
    const approval = mintOperatorApproval({ clock: core.clock, operatorSigner: signer }, row.request_hash, this.context.tenantId);
    const quorumDetails = quorum > 1 ? { operator, quorum: BigInt(quorum), approvals: BigInt(count) } : {};
    const recorded = await witnessDecision(core.ledgerStore, async (tx) => {
      // Checked again where the approval is written: a decision taken meanwhile (here or at
      // another instance) must not be followed by an `approved` receipt it never had.
      const now = await records.within(tx).get(id);
      if (now?.status !== 'pending' || now.exec_id !== null || Date.parse(now.expires_at) <= core.clock.now()) {
        throw new StaleDecision();
      }
      const receipt = await tx.append(approvedReceipt(row, approval, quorumDetails));
      if (quorum > 1) await records.within(tx).recordApproval(id, signer.keyId, operator, receipt.time, receipt.seq);
      return true;
    });
    if (recorded !== true) {
      await this.context.pendingOrRefuse(id);
      throw new Refusal('conflict', `Proposal ${id} changed while it was being approved`);
    }
    if (count < quorum) {
      // Short of the quorum: witnessed, and waiting for another operator's key.
      const waiting = (await records.get(id))!;
      await publisher.changed(waiting);
      return waiting;
    }
    const outcome = await executeProposal(core, records, row, approval.artifact, null);
    const after = (await records.get(id))!;
    if (after.status === 'pending') {
      // Another instance is running it (its own approval): that one decides.
      if (outcome.kind === 'refused' && outcome.code === 'conflict') {
        throw new Refusal('conflict', `Proposal ${id} was not executed here: ${outcome.detail}`);
      }
      // Refused before anything was reserved (an internal error): nothing ran; say why.
      const detail = outcome.kind === 'refused' ? outcome.detail : 'not executed';
      throw new Refusal('handler_failed', `Proposal ${id} was not executed: ${detail}`);
    }
    if (after.approval_id !== approval.artifact.approval_id) {
      // Denied or expired between our approval and its execution: nothing ran.
      throw new Refusal('conflict', `Proposal ${id} was ${after.status} before it could execute`);
    }
    await publisher.changed(after);
    return after;
  }
}
