import type { ProposalCore } from './proposal-core.ts';
import type { ExecuteOutcome } from '../engine/engine.ts';
import type { ApprovalArtifact } from '../approval/approval-artifact.ts';
import { isoUtc } from '../clock.ts';
import { payloadOf, type ProposalRow } from './proposal-store.ts';
import type { ProposalRecords } from '../store/proposal-records.ts';
import { decisionFor } from './proposal-decisions.ts';

/**
 * The one way a proposal executes: with the operator's artifact, or (artifact null) under a
 * live grant whose use the engine spends in its decision. A grant that no longer covers it
 * when the engine decides leaves it pending for the operator. Its callbacks read and write the
 * proposal through `records` within the engine's transaction (on PostgreSQL, its connection).
 */
export function executeProposal(
  core: Pick<ProposalCore, 'engine' | 'clock'>,
  records: ProposalRecords,
  row: ProposalRow,
  artifact: ApprovalArtifact | null,
  agent: string | null,
): Promise<ExecuteOutcome> {
  const id = row.id;
  // The execution this decision reserved, so that its ending (also a refusal by the handler)
  // closes the proposal it claimed.
  let claimed: string | null = null;
  return core.engine.execute({
    action: row.action,
    payload: payloadOf(row),
    nonce: row.nonce,
    artifact,
    proposalId: row.id,
    context: row.context,
    agent: row.agent ?? agent,
    definitionHash: row.action_def_hash,
    precondition: async (tx) => {
      const now = await records.within(tx).get(id);
      if (now?.status !== 'pending') return `Proposal ${id} was ${now?.status ?? 'removed'} before it could execute`;
      if (Date.parse(now.expires_at) <= core.clock.now()) return `Proposal ${id} expired before it could execute`;
      return null;
    },
    claim: async (execId, approvalId, tx) => {
      if (!(await records.within(tx).claim(id, execId, approvalId))) throw new Error(`proposal ${id} could not be claimed`);
      claimed = execId;
    },
    within: async (outcome, tx) => {
      if (outcome.kind === 'refused' && outcome.code === 'conflict') return;
      if (artifact === null && outcome.kind === 'refused' && outcome.code === 'approval_required') return;
      // A definition changed since the proposal was made can never run: close it as failed.
      await records.within(tx).decide(id, decisionFor(outcome, artifact?.approval_id ?? null, claimed, isoUtc(core.clock.now())));
    },
  });
}
