import { isoUtc } from '../clock.ts';
import { Refusal } from '../errors.ts';
import type { ExecuteOutcome } from '../engine/engine.ts';
import type { ProposalCore } from './proposal-core.ts';
import type { ProposalDecision, ProposalRow } from './proposal-store.ts';
import type { ProposalRecords } from '../store/proposal-records.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';

export const MAX_TTL_SECONDS = 7 * 24 * 3600;
/** An extension never sets the expiry further ahead of now than this. */
export const MAX_EXTEND_AHEAD_SECONDS = 3600;
/** An extension that would add less than this is refused rather than witnessed. */
const MIN_EXTEND_GAIN_MS = 30_000;

/** How a proposal closes once the engine has decided its execution. */
export function decisionFor(
  outcome: ExecuteOutcome,
  approvalId: string | null,
  execId: string | null,
  decidedAt: string,
): ProposalDecision {
  if (outcome.kind === 'refused') {
    return { status: 'failed', decidedAt, reason: outcome.detail, result: null, execId, approvalId, receiptSeq: outcome.receiptSeq };
  }
  const { answer } = outcome;
  return {
    status: 'executed',
    decidedAt,
    reason: null,
    result: answer.resultCanonical,
    execId: answer.id,
    approvalId,
    receiptSeq: outcome.receiptSeq,
  };
}

/**
 * The new expiry of an extension: `seconds` past the later of now and the current expiry, but
 * never more than MAX_EXTEND_AHEAD_SECONDS ahead of now nor past the proposal's longest
 * lifetime (MAX_TTL_SECONDS from creation). Refused when that gains too little.
 */
export function extendedExpiry(row: ProposalRow, seconds: number, now: number): string {
  const current = Date.parse(row.expires_at);
  const ceiling = Math.min(now + MAX_EXTEND_AHEAD_SECONDS * 1000, Date.parse(row.created_at) + MAX_TTL_SECONDS * 1000);
  const target = Math.min(Math.max(current, now) + seconds * 1000, ceiling);
  if (target - current < MIN_EXTEND_GAIN_MS) {
    throw new Refusal('conflict', `Proposal ${row.id} already expires at ${row.expires_at}, the latest allowed`);
  }
  return isoUtc(target);
}

/**
 * After a restart: pending proposals whose claimed execution ended (or was closed as
 * interrupted) while nothing was listening are closed as that execution ended, at its receipt's time.
 */
export function settleEndedExecutions(
  core: Pick<ProposalCore, 'ledgerStore' | 'executionRecords'>,
  records: ProposalRecords,
): Promise<ProposalRow[]> {
  return core.ledgerStore.witness((tx) => settleEndedWithin(core, records, tx));
}

/** The settling of settleEndedExecutions inside the caller's witnessed write; the proposals it closed. */
export async function settleEndedWithin(
  core: Pick<ProposalCore, 'executionRecords'>,
  records: ProposalRecords,
  tx: LedgerTransaction,
): Promise<ProposalRow[]> {
  const proposals = records.within(tx);
  const executions = core.executionRecords.within(tx);
  const settled: string[] = [];
  for (const p of await proposals.listClaimedPending()) {
    const e = p.exec_id === null ? undefined : await executions.get(p.exec_id);
    if (!e || e.status === 'started' || e.receipt_seq === null) continue;
    const time = await executions.endedAt(e.id);
    if (time === null) continue;
    const decision: ProposalDecision = {
      status: e.status === 'executed' ? 'executed' : 'failed',
      decidedAt: time,
      reason: e.error,
      result: e.result,
      execId: e.id,
      approvalId: p.approval_id,
      receiptSeq: e.receipt_seq,
    };
    if (await proposals.decide(p.id, decision)) settled.push(p.id);
  }
  const rows: ProposalRow[] = [];
  for (const id of settled) {
    const row = await proposals.get(id);
    if (row !== undefined) rows.push(row);
  }
  return rows;
}

/** The pending proposals whose approval claimed an execution, by that execution's id. */
export async function claimsWithin(records: ProposalRecords, tx: LedgerTransaction): Promise<ReadonlyMap<string, string>> {
  const claimed = new Map<string, string>();
  for (const p of await records.within(tx).listClaimedPending()) if (p.exec_id !== null) claimed.set(p.exec_id, p.id);
  return claimed;
}
