import { isoUtc } from '../../clock.ts';
import { purgeReceiptDraft, type PurgeCounts } from '../../ledger/purge-receipt.ts';
import type { PurgeDto } from '../../../../shared/retention.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { receiptTsvector } from './pg-search-text.ts';
import { sessionOf, type PgSession } from './pg-session.ts';

/** Receipts whose search words are rewritten per statement. */
const BATCH = 5000;

const PURGEABLE_BODIES = `FROM receipt_bodies b JOIN receipts r ON r.seq = b.seq WHERE b.purged_at IS NULL AND r.time < $1`;
// As SQLite's ExecutionStore and ProposalStore choose them: finished, decided, older than the cut-off ($1).
const PURGEABLE_EXECUTION = `purged_at IS NULL AND status <> 'started' AND created_at < $1`;
const PURGEABLE_PROPOSAL = `purged_at IS NULL AND status <> 'pending' AND created_at < $1`;

async function count(db: PgSession, cutoffIso: string): Promise<PurgeCounts> {
  const { rows } = await db.query<{
    from_seq: string | null;
    to_seq: string | null;
    receipts: string;
    bodies: string;
    e: string;
    p: string;
  }>(
    `SELECT min(b.seq) AS from_seq, max(b.seq) AS to_seq, count(DISTINCT b.seq) AS receipts, count(*) AS bodies,
       (SELECT count(*) FROM executions WHERE ${PURGEABLE_EXECUTION}) AS e,
       (SELECT count(*) FROM proposals WHERE ${PURGEABLE_PROPOSAL}) AS p
     ${PURGEABLE_BODIES}`,
    [cutoffIso],
  );
  const row = rows[0]!;
  return {
    fromSeq: row.from_seq === null ? null : Number(row.from_seq),
    toSeq: row.to_seq === null ? null : Number(row.to_seq),
    receipts: Number(row.receipts),
    bodies: Number(row.bodies),
    executions: Number(row.e),
    proposals: Number(row.p),
  };
}

/**
 * The search words of every receipt whose payload or context is about to be purged become its
 * action's and reason's alone, as SQLite's purge re-indexes it (the words are split in
 * JavaScript, pg-search-text.ts, so they are computed here), a batch of receipts per statement.
 */
async function unindexBodies(db: PgSession, cutoffIso: string, toSeq: number): Promise<void> {
  for (let after = 0; ;) {
    const { rows } = await db.query<{ seq: string; action: string | null; reason: string | null }>(
      `SELECT r.seq, r.action, r.reason FROM receipts r
       WHERE r.time < $1 AND r.seq > $2 AND r.seq <= $3 AND EXISTS (SELECT 1 FROM receipt_bodies b
         WHERE b.seq = r.seq AND b.purged_at IS NULL AND b.field IN ('payload', 'context'))
       ORDER BY r.seq LIMIT $4`,
      [cutoffIso, after, toSeq, BATCH],
    );
    if (rows.length === 0) return;
    await db.query(
      `UPDATE receipt_search s SET search = v.search::tsvector
       FROM unnest($1::bigint[], $2::text[]) AS v (seq, search) WHERE s.seq = v.seq`,
      [rows.map((r) => r.seq), rows.map((r) => receiptTsvector({ action: r.action, reason: r.reason }))],
    );
    after = Number(rows[rows.length - 1]!.seq);
  }
}

/**
 * Retention on PostgreSQL, inside a witnessed write (so under the ledger lock, in order with
 * every instance's receipts): what SQLite's purgeOlderThan (ledger/purge.ts) removes, counted the
 * same way and recorded by the same `purge` receipt. Receipt bodies lose their text and salt
 * and name the purge; executions' results and decided proposals' payloads, contexts and results
 * go; the receipts' search words become their action's and reason's. Nothing else changes (the
 * triggers of migration 5 hold the database to that).
 *
 * PostgreSQL keeps no WAL or freelist of SQLite's kind: `walTruncated` is false and
 * `freelistPages` 0. The old row versions stay in the tables' files until VACUUM reclaims them
 * and new rows overwrite them, and in the WAL until it is recycled (README "PostgreSQL").
 */
export async function purgeWithin(
  tx: LedgerTransaction,
  cutoff: number,
  trigger: 'retention' | 'operator',
): Promise<Omit<PurgeDto, 'walTruncated' | 'freelistPages'>> {
  const db = sessionOf(tx);
  const cutoffIso = isoUtc(cutoff);
  const counts = await count(db, cutoffIso);
  const result = { cutoff: cutoffIso, trigger, receiptSeq: null, purgedAt: null, ...counts };
  if (counts.bodies === 0 && counts.executions === 0 && counts.proposals === 0) return result;

  if (counts.toSeq !== null) await unindexBodies(db, cutoffIso, counts.toSeq);
  const receipt = await tx.append(purgeReceiptDraft(counts, cutoffIso, trigger));
  const at = receipt.time;
  await db.query(
    `UPDATE receipt_bodies SET salt = NULL, body = NULL, purged_at = $2, purge_seq = $3
     WHERE purged_at IS NULL AND seq IN (SELECT seq FROM receipts WHERE time < $1)`,
    [cutoffIso, at, receipt.seq],
  );
  await db.query(`UPDATE executions SET result = NULL, result_legacy_json = NULL, purged_at = $2 WHERE ${PURGEABLE_EXECUTION}`, [
    cutoffIso,
    at,
  ]);
  await db.query(`UPDATE proposals SET payload = '', context = NULL, result = NULL, purged_at = $2 WHERE ${PURGEABLE_PROPOSAL}`, [
    cutoffIso,
    at,
  ]);
  return { ...result, receiptSeq: receipt.seq, purgedAt: at };
}
