import { Refusal } from '../errors.ts';
import { RECEIPT_KEY_ID_PATTERN, type ClosedOrphanDto } from '../../../shared/orphans.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';
import { closeInterrupted, type Writes } from './outcomes.ts';

/** The reason each closed execution's receipt (and its stored ending) gives. */
export function retiredReason(keyId: string): string {
  return `Interrupted: its instance (receipt key ${keyId}) was retired by the operator; its outcome is unknown and it will not run again`;
}

/**
 * The proposals whose approvals claimed the executions being closed, settled in the same
 * witnessed write (ProposalService.closeOrphans): one commit closes the executions and the
 * proposals, so an instance that reads a proposal on hearing its closing receipt finds it ended.
 */
export interface OrphanProposals {
  /** The proposal that claimed each execution, by the execution's id: named on its closing receipt. */
  claimed(tx: LedgerTransaction): Promise<ReadonlyMap<string, string>>;
  /** Runs once the executions are closed. */
  settle(tx: LedgerTransaction): Promise<void>;
}

/** What closing a retired key's orphans wrote: the operator's `config` receipt and each closing. */
export interface ClosedOrphans {
  configSeq: number;
  closed: ClosedOrphanDto[];
}

/**
 * Inside one witnessed write: the `config` receipt that records the operator retiring receipt
 * key `keyId`, then, each with a receipt this instance signs, every execution that key reserved
 * and left `started`, closed as interrupted as its own instance would have at its next start.
 * All of it commits, or none. The store refuses (ExecutionRecords.listOrphans) on SQLite, for
 * this instance's own key, a key never registered, and while that instance is connected.
 */
export async function closeOrphansOf(w: Writes, keyId: string, proposals: OrphanProposals | null = null): Promise<ClosedOrphans> {
  if (!RECEIPT_KEY_ID_PATTERN.test(keyId)) throw new Refusal('bad_request', `'${keyId}' is not a receipt key id (16 lowercase hex digits)`);
  const rows = await w.records.listOrphans(keyId);
  const claimed = proposals === null ? new Map<string, string>() : await proposals.claimed(w.tx);
  const config = await w.tx.append({
    event: 'config',
    reason: `receipt key ${keyId} retired by the operator: ${rows.length} execution(s) it left running closed as interrupted`,
    details: { retired_receipt_key: keyId, closed_exec_ids: rows.map((r) => r.id) },
  });
  const reason = retiredReason(keyId);
  const closed: ClosedOrphanDto[] = [];
  for (const row of rows) {
    const { receiptSeq } = await closeInterrupted(w, row, reason, claimed.get(row.id) ?? null);
    closed.push({ execId: row.id, nonce: row.nonce, action: row.action, createdAt: row.created_at, receiptSeq });
  }
  await proposals?.settle(w.tx);
  return { configSeq: config.seq, closed };
}
