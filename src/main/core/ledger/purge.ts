import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from './ledger.ts';
import { isoUtc } from '../clock.ts';
import { parseJson } from '../json/parse.ts';
import { searchableText } from './searchable-text.ts';
import type { PurgeDto } from '../../../shared/retention.ts';
import { searchIndexOf } from './search-index.ts';
import { purgeReceiptDraft } from './purge-receipt.ts';

/** What a purge asks of a table kept by another store (executions, proposals): count, then clear. */
export interface PurgeableTable {
  /** Rows older than `cutoffIso` whose bodies are still kept. */
  countPurgeable(cutoffIso: string): number;
  /** Clears those bodies, marking the rows purged at `at`. */
  purgeOlderThan(cutoffIso: string, at: string): void;
}

interface IndexedBodies {
  seq: number;
  action: string | null;
  reason: string | null;
  payload: string | null;
  context: string | null;
}

/**
 * Takes the receipts' words out of the search index as they were put in (a contentless FTS5
 * table forgets a row only when told its exact values), then puts back what is left: the action
 * and the reason. The index is rebuilt in one segment afterwards, so no old segment keeps them.
 */
function unindexBodies(db: SqliteDatabase, cutoffIso: string): void {
  const rows = db
    .prepare(
      `SELECT r.seq, r.action, r.reason,
         max(CASE b.field WHEN 'payload' THEN b.body END) AS payload,
         max(CASE b.field WHEN 'context' THEN b.body END) AS context
       FROM receipt_bodies b JOIN receipts r ON r.seq = b.seq
       WHERE b.purged_at IS NULL AND r.time < ? AND b.field IN ('payload', 'context')
       GROUP BY r.seq`,
    )
    .all(cutoffIso) as IndexedBodies[];
  const forget = db.prepare(
    "INSERT INTO receipts_fts (receipts_fts, rowid, action, reason, context, payload) VALUES ('delete', ?, ?, ?, ?, ?)",
  );
  const index = db.prepare('INSERT INTO receipts_fts (rowid, action, reason, context, payload) VALUES (?, ?, ?, NULL, NULL)');
  for (const r of rows) {
    const words = r.payload === null ? '' : searchableText(parseJson(r.payload));
    forget.run(r.seq, r.action, r.reason, r.context, words);
    index.run(r.seq, r.action, r.reason);
  }
  if (rows.length > 0) db.exec("INSERT INTO receipts_fts (receipts_fts) VALUES ('optimize')");
}

/**
 * Retention: removes the payloads, contexts, previews and results of everything older than
 * `cutoff` — receipt bodies (format 2), executions' results, decided proposals' payloads,
 * contexts and results — and records it with one `config` receipt of kind `purge` (the seq
 * range, counts and cut-off; never the bodies). Every receipt still verifies: a format-2 receipt
 * signs only the salted hashes. Receipts of format 1 embed their payload and are left as they
 * are. The connection runs with `secure_delete` (database.ts), so the freed bytes are zeroed;
 * the WAL is then checkpointed and truncated so no frame keeps them.
 */
export function purgeOlderThan(
  db: SqliteDatabase,
  ledger: Ledger,
  tables: { executions: PurgeableTable; proposals: PurgeableTable },
  cutoff: number,
  trigger: 'retention' | 'operator',
): PurgeDto {
  const cutoffIso = isoUtc(cutoff);
  const counted = ledger.witness(() => {
    const range = db
      .prepare(
        `SELECT min(b.seq) AS fromSeq, max(b.seq) AS toSeq, count(DISTINCT b.seq) AS receipts, count(*) AS bodies
         FROM receipt_bodies b JOIN receipts r ON r.seq = b.seq WHERE b.purged_at IS NULL AND r.time < ?`,
      )
      .get(cutoffIso) as { fromSeq: number | null; toSeq: number | null; receipts: number; bodies: number };
    const executions = tables.executions.countPurgeable(cutoffIso);
    const proposals = tables.proposals.countPurgeable(cutoffIso);
    if (range.bodies === 0 && executions === 0 && proposals === 0) return { ...range, executions, proposals, receipt: null };

    // The index trails the ledger (search-index.ts): a row is taken out only once it is in.
    searchIndexOf(db).catchUp();
    unindexBodies(db, cutoffIso);
    const receipt = ledger.append(purgeReceiptDraft({ ...range, executions, proposals }, cutoffIso, trigger));
    db.prepare(
      `UPDATE receipt_bodies SET salt = NULL, body = NULL, purged_at = @at, purge_seq = @seq
       WHERE purged_at IS NULL AND seq IN (SELECT seq FROM receipts WHERE time < @cutoff)`,
    ).run({ at: receipt.time, seq: receipt.seq, cutoff: cutoffIso });
    tables.executions.purgeOlderThan(cutoffIso, receipt.time);
    tables.proposals.purgeOlderThan(cutoffIso, receipt.time);
    return { ...range, executions, proposals, receipt };
  });
  // Every frame of the WAL that held the bodies is copied over and the file cut to nothing; a
  // reader holding an old snapshot (an offline verify-ledger) can keep it from finishing.
  const checkpoint = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
  const walTruncated = checkpoint[0]?.busy === 0 && checkpoint[0]?.log === 0;
  const freelistPages = db.pragma('freelist_count', { simple: true }) as number;
  return {
    cutoff: cutoffIso,
    trigger,
    receiptSeq: counted.receipt?.seq ?? null,
    purgedAt: counted.receipt?.time ?? null,
    fromSeq: counted.fromSeq,
    toSeq: counted.toSeq,
    receipts: counted.receipts,
    bodies: counted.bodies,
    executions: counted.executions,
    proposals: counted.proposals,
    walTruncated,
    freelistPages,
  };
}
