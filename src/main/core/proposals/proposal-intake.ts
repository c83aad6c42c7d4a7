import { randomUUID } from 'node:crypto';
import type { ProposalCore } from './proposal-core.ts';
import { canonicalJson } from '../json/canonical.ts';
import { isoUtc } from '../clock.ts';
import { Refusal } from '../errors.ts';
import { declaredRefusal } from '../engine/declared-checks.ts';
import { isPinnedTool } from '../actions/client-executed.ts';
import type { ProposalRecords } from '../store/proposal-records.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';
import type { ProposalRow } from './proposal-store.ts';
import { proposedReceipt, refusedProposalReceipt } from './proposal-receipts.ts';
import type { ProposeInput } from './proposal-service.ts';

/** What a proposal's witnessed write found: a new proposal, the one its nonce holds, or a refusal. */
export type Proposed = { created: string } | { existing: ProposalRow } | { refused: Refusal };

/**
 * Inside a proposal's witnessed write: what a new proposal must pass before it is stored (its
 * nonce, the allow-list, the action and its declared schema), then the row and its `proposed`
 * receipt; a refusal is witnessed too. `records` are the proposals on `tx`'s transaction.
 */
export async function admitProposal(
  core: ProposalCore,
  records: ProposalRecords,
  tx: LedgerTransaction,
  input: ProposeInput,
  requestHash: string,
  defaultTtlSeconds: number,
): Promise<Proposed> {
  // An MCP tool's definition is the one pinned now, as this transaction reads it.
  const definitionHash = isPinnedTool(input.action)
    ? await core.toolPins.hashWithin(input.action, tx)
    : (core.registry.get(input.action)?.definitionHash ?? null);
  // A proposal refused at once is an attempt like any other: witnessed, then answered.
  const refuse = async (refusal: Refusal): Promise<Proposed> => {
    await tx.append(refusedProposalReceipt(input, requestHash, refusal, definitionHash));
    return { refused: refusal };
  };
  const existing = await records.findByNonce(input.nonce);
  if (existing) {
    if (existing.request_hash !== requestHash) {
      return refuse(new Refusal('nonce_conflict', `Nonce '${input.nonce}' was already used for a different request`));
    }
    if (existing.agent !== (input.agent ?? null)) {
      return refuse(new Refusal('nonce_conflict', `Nonce '${input.nonce}' was already used by another agent`));
    }
    return { existing };
  }
  const { allowList, registry } = core;
  if (!(await allowList.allowsWithin(input.action, tx))) {
    return refuse(new Refusal('not_allowed', `Action '${input.action}' is not in the execution allow-list`));
  }
  const action = registry.get(input.action);
  if (!action) return refuse(new Refusal('unknown_action', `Unknown action: ${input.action}`));
  const invalid = declaredRefusal(action, { ...input, artifact: null }, definitionHash);
  if (invalid) return refuse(new Refusal(invalid.code, invalid.detail));
  // Proposals and executions share one nonce space.
  const execution = await core.executionRecords.within(tx).findByNonce(input.nonce);
  if (execution !== undefined) {
    return refuse(new Refusal('nonce_conflict', `Nonce '${input.nonce}' was already used by execution ${execution.id}`));
  }
  const now = core.clock.now();
  const ttl = input.ttlSeconds ?? defaultTtlSeconds;
  const row = {
    id: randomUUID(),
    nonce: input.nonce,
    action: input.action,
    payload: canonicalJson(input.payload),
    request_hash: requestHash,
    context: input.context ?? null,
    created_at: isoUtc(now),
    expires_at: isoUtc(now + ttl * 1000),
    action_def_hash: definitionHash,
    agent: input.agent ?? null,
  };
  await records.insert(row);
  await tx.append(proposedReceipt(row, input.payload));
  return { created: row.id };
}
