import type { ProposalRecords } from '../store/proposal-records.ts';
import type { ToolPinRecords } from '../store/tool-pin-records.ts';
import type { EngineOptions } from './execute-request.ts';

/**
 * The engine's callbacks as OpenExecCore wires them: each reads the records within the
 * decision's witnessed write (`within(tx)`), so on PostgreSQL every read happens on the
 * connection that holds the group transaction, and what another instance on the same database
 * committed before the decision took the ledger is what it sees.
 */
export function recordCallbacks(
  proposals: ProposalRecords,
  pins: ToolPinRecords,
): Required<Pick<EngineOptions, 'nonceHeldByProposal' | 'approvalKeysOf' | 'pinnedHash'>> {
  return {
    nonceHeldByProposal: async (nonce, tx) => (await proposals.within(tx).findByNonce(nonce))?.id ?? null,
    approvalKeysOf: (proposalId, tx) => proposals.within(tx).approvalKeys(proposalId),
    pinnedHash: async (action, tx) => (await pins.within(tx).get(action))?.definition_hash ?? null,
  };
}
