import type Database from 'better-sqlite3';
import { decodeSignatureBase64 } from '../crypto/ed25519.ts';

/**
 * The two fields nearly every filter combination checks row by row (the event and action
 * filters, alone or beside full text): stored as columns, because reading one out of the body
 * costs a JSON parse per row visited, which made those searches two to three times slower.
 * verify-ledger holds each to the body, as it held every copied column before.
 */
export const STORED_BODY_FIELDS = ['event', 'action'] as const;

/**
 * The other fields of a signed body that search, filters and the side-table checks read as
 * columns. They are VIRTUAL generated columns: SQLite reads them out of `body` when asked and
 * stores nothing, so they cannot differ from what the body says. Several are indexed, so SQLite
 * computes them on every write: a body that is not JSON cannot be written (json_extract refuses
 * it), which is why the migration refuses a ledger holding one. No json_valid guard: it would
 * parse each body twice on every read.
 */
export const GENERATED_BODY_FIELDS = [
  'time',
  'prev_hash',
  'reason',
  'exec_id',
  'proposal_id',
  'approval_id',
  'approver_key_id',
  'request_hash',
  'grant_id',
] as const;

const bodyField = (field: string) => `${field} ANY GENERATED ALWAYS AS (json_extract(body, '$.${field}')) VIRTUAL`;

/**
 * The receipts table as issue 14 "Storage" left it (README "Receipts", "How a receipt is
 * stored"). Stored: the signed body byte for byte, its SHA-256 and its signature as raw bytes,
 * and the event and action. Everything else is read from the body. Indexes: one per filter the
 * console offers; the sparse ones partial; the two hashes by a prefix (the query then compares
 * the whole value).
 */
function createCompactReceipts(db: Database.Database, table: string): void {
  db.exec(`
    CREATE TABLE ${table} (
      seq INTEGER PRIMARY KEY,
      hash_bytes BLOB NOT NULL,
      signature_bytes BLOB NOT NULL,
      event TEXT NOT NULL,
      action TEXT,
      body TEXT NOT NULL,
      hash TEXT GENERATED ALWAYS AS (lower(hex(hash_bytes))) VIRTUAL,
      ${GENERATED_BODY_FIELDS.map(bodyField).join(',\n      ')}
    ) STRICT;
  `);
}

const INDEXES_AND_TRIGGERS = `
  CREATE INDEX receipts_hash ON receipts(substr(hash_bytes, 1, 8));
  CREATE INDEX receipts_event ON receipts(event);
  CREATE INDEX receipts_action ON receipts(action) WHERE action IS NOT NULL;
  CREATE INDEX receipts_approver ON receipts(approver_key_id) WHERE approver_key_id IS NOT NULL;
  CREATE INDEX receipts_time ON receipts(time);
  CREATE INDEX receipts_exec ON receipts(exec_id) WHERE exec_id IS NOT NULL;
  CREATE INDEX receipts_proposal ON receipts(proposal_id) WHERE proposal_id IS NOT NULL;
  CREATE INDEX receipts_approval ON receipts(approval_id) WHERE approval_id IS NOT NULL;
  CREATE INDEX receipts_grant ON receipts(grant_id) WHERE grant_id IS NOT NULL;
  CREATE INDEX receipts_request_hash ON receipts(substr(request_hash, 1, 16)) WHERE request_hash IS NOT NULL;
  CREATE TRIGGER receipts_append_only_update BEFORE UPDATE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
  CREATE TRIGGER receipts_append_only_delete BEFORE DELETE ON receipts
    BEGIN SELECT RAISE(ABORT, 'receipts are append-only'); END;
`;

/** The columns of the earlier layout that were copies of the body field of that name. */
const COPIED_COLUMNS = [...STORED_BODY_FIELDS, ...GENERATED_BODY_FIELDS];

/**
 * Migration 11: the earlier receipts table (hashes and signature as text, body fields copied
 * into columns) rewritten into the compact one. Every body is copied byte for byte and every
 * signature's 64 bytes kept. Most copied columns are dropped, so the migration first holds each
 * one to its body and refuses, naming the receipt, a ledger where one differs: that difference
 * is evidence of tampering that dropping the column would erase. A hash or signature that is
 * not the canonical text of 32 or 64 bytes is kept as the bytes of its text, which no
 * verification accepts, so a receipt that did not verify before does not verify after.
 * Runs with foreign keys off (migrations.ts), as SQLite's documented table rebuild requires.
 */
export function compactReceiptsTable(db: Database.Database): void {
  const notJson = db.prepare('SELECT seq FROM receipts WHERE NOT json_valid(body) ORDER BY seq LIMIT 1').pluck().get() as
    number | undefined;
  if (notJson !== undefined) {
    throw new Error(
      `receipt ${notJson}: its signed body is not JSON, so the ledger was altered; ` +
        'the new receipts layout reads its columns out of the body and cannot hold it (inspect it with verify-ledger of the previous OpenExec)',
    );
  }
  const differs = COPIED_COLUMNS.map((c) => `${c} IS NOT json_extract(body, '$.${c}')`).join(' OR ');
  const altered = db.prepare(`SELECT seq FROM receipts WHERE ${differs} ORDER BY seq LIMIT 1`).pluck().get() as number | undefined;
  if (altered !== undefined) {
    const row = db.prepare('SELECT * FROM receipts WHERE seq = ?').get(altered) as Record<string, unknown>;
    const body = JSON.parse(row['body'] as string) as Record<string, unknown>;
    const column = COPIED_COLUMNS.find((c) => (body[c] ?? null) !== row[c]) ?? 'a column';
    throw new Error(
      `receipt ${altered}: its stored ${column} differs from its signed body, so the ledger was altered; ` +
        'the new receipts layout reads its columns from the body and will not erase that evidence (inspect it with verify-ledger of the previous OpenExec)',
    );
  }
  db.function('openexec_signature_bytes', { deterministic: true }, (text: unknown) => {
    const s = String(text);
    return Buffer.from(decodeSignatureBase64(s) ?? Buffer.from(s, 'utf8'));
  });
  createCompactReceipts(db, 'receipts_compact');
  db.exec(`
    INSERT INTO receipts_compact (seq, hash_bytes, signature_bytes, event, action, body)
      SELECT seq,
        CASE WHEN length(hash) = 64 AND lower(hex(unhex(hash))) = hash THEN unhex(hash) ELSE CAST(hash AS BLOB) END,
        openexec_signature_bytes(signature),
        event, action, body
      FROM receipts ORDER BY seq;
    DROP TABLE receipts;
    ALTER TABLE receipts_compact RENAME TO receipts;
    ${INDEXES_AND_TRIGGERS}
  `);
}
