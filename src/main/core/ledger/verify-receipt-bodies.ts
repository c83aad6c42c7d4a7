import type { SqliteDatabase } from '../store/database.ts';
import { saltedHash } from './receipt-bodies.ts';
import { sha256Hex } from '../json/request-hash.ts';

/** 128 bits: the least salt that keeps a short body from being guessed back from its hash. */
const MIN_SALT_BYTES = 16;

/** A purge receipt that covers receipt `b.seq`: written when the row says, cut-off after the receipt. */
const COVERED_BY_PURGE = `p.event = 'config' AND json_extract(p.body, '$.details.kind') = 'purge' AND p.time = b.purged_at
  AND r.time < json_extract(p.body, '$.details.cutoff') AND b.seq <= json_extract(p.body, '$.details.to_seq')`;

/** A side-table row marked purged must be marked with the time of a purge whose cut-off it is older than. */
const purgeReceiptAt = (purgedAt: string, createdAt: string) =>
  `NOT EXISTS (SELECT 1 FROM receipts p WHERE p.event = 'config' AND p.time = ${purgedAt}
     AND json_extract(p.body, '$.details.kind') = 'purge' AND ${createdAt} < json_extract(p.body, '$.details.cutoff'))`;

/**
 * The bodies receipts of format 2 commit to are not signed themselves, so each must be checked
 * against its receipt's `salted_hashes`: every committed field has its row, every row is
 * committed to, a kept body and its salt hash to the committed value, and a purged one was
 * purged by a purge receipt that covers it. Results kept by the executions table must be the
 * receipt's result body, and rows marked purged must name a purge that happened.
 */
export function receiptBodyProblems(db: SqliteDatabase, limit: number): string[] {
  const problems: string[] = [];
  const check = (sql: string, describe: (row: Record<string, unknown>) => string | null) => {
    if (problems.length >= limit) return;
    for (const row of db.prepare(sql).iterate() as IterableIterator<Record<string, unknown>>) {
      const problem = describe(row);
      if (problem === null) continue;
      problems.push(problem);
      if (problems.length >= limit) return;
    }
  };
  check(
    `SELECT r.seq, j.key AS field FROM receipts r, json_each(r.body, '$.salted_hashes') j
     LEFT JOIN receipt_bodies b ON b.seq = r.seq AND b.field = j.key WHERE b.seq IS NULL`,
    (r) => `receipt ${String(r['seq'])} commits to a ${String(r['field'])} body that is missing`,
  );
  check(
    `SELECT b.seq, b.field FROM receipt_bodies b JOIN receipts r ON r.seq = b.seq
     WHERE json_extract(r.body, '$.salted_hashes.' || b.field) IS NULL`,
    (r) => `receipt ${String(r['seq'])} keeps a ${String(r['field'])} body it does not commit to`,
  );
  check(
    `SELECT b.seq, b.field, b.salt, b.body, json_extract(r.body, '$.salted_hashes.' || b.field) AS hash
     FROM receipt_bodies b JOIN receipts r ON r.seq = b.seq WHERE b.purged_at IS NULL`,
    (r) => {
      const where = `receipt ${String(r['seq'])}'s ${String(r['field'])} body`;
      const salt = r['salt'];
      if (!(salt instanceof Uint8Array) || typeof r['body'] !== 'string') return `${where} has no salt or text and no purge`;
      if (salt.length < MIN_SALT_BYTES) return `${where} has a salt shorter than 128 bits`;
      return saltedHash(salt, r['body']) === r['hash'] ? null : `${where} does not hash to its salted hash`;
    },
  );
  check(
    `SELECT b.seq, b.field FROM receipt_bodies b JOIN receipts r ON r.seq = b.seq LEFT JOIN receipts p ON p.seq = b.purge_seq
     WHERE b.purged_at IS NOT NULL AND (p.seq IS NULL OR NOT (${COVERED_BY_PURGE}))`,
    (r) => `receipt ${String(r['seq'])}'s ${String(r['field'])} body is gone, but no purge receipt covers it`,
  );
  check(
    `SELECT e.id, e.receipt_seq FROM executions e JOIN receipt_bodies b ON b.seq = e.receipt_seq AND b.field = 'result'
     WHERE b.body IS NOT NULL AND e.result IS NOT b.body`,
    (r) => `execution ${String(r['id'])} keeps a result other than the one its receipt ${String(r['receipt_seq'])} commits to`,
  );
  // Format 1 commits to a kept result by result_hash (its text) and legacy_receipt (exec id and
  // the agent's JSON of it) instead of a salted hash.
  check(
    `SELECT e.id, e.receipt_seq, e.result, e.result_legacy_json,
       json_extract(r.body, '$.result_hash') AS result_hash, json_extract(r.body, '$.legacy_receipt') AS legacy_receipt
     FROM executions e JOIN receipts r ON r.seq = e.receipt_seq
     WHERE e.result IS NOT NULL AND (json_extract(r.body, '$.result_hash') IS NOT NULL OR json_extract(r.body, '$.legacy_receipt') IS NOT NULL)`,
    (r) => {
      const where = `execution ${String(r['id'])} keeps a result its receipt ${String(r['receipt_seq'])} does not commit to`;
      if (r['result_hash'] !== null && sha256Hex(String(r['result'])) !== r['result_hash']) return `${where} (result_hash)`;
      const legacy = r['result_legacy_json'];
      if (r['legacy_receipt'] !== null && legacy !== null && sha256Hex(`${String(r['id'])}:${String(legacy)}`) !== r['legacy_receipt']) {
        return `${where} (legacy_receipt)`;
      }
      return null;
    },
  );
  check(
    `SELECT e.id FROM executions e WHERE e.purged_at IS NOT NULL AND ${purgeReceiptAt('e.purged_at', 'e.created_at')}`,
    (r) => `execution ${String(r['id'])} is marked purged, but no purge receipt was written then`,
  );
  check(
    `SELECT id FROM proposals WHERE purged_at IS NOT NULL AND ${purgeReceiptAt('proposals.purged_at', 'proposals.created_at')}`,
    (r) => `proposal ${String(r['id'])} is marked purged, but no purge receipt was written then`,
  );
  return problems;
}
