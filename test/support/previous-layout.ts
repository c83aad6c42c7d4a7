import type Database from 'better-sqlite3';
import type { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { sealReceipt } from '../../src/main/core/ledger/seal-receipt.ts';
import { ReceiptBodies } from '../../src/main/core/ledger/receipt-bodies.ts';
import { MerkleStore } from '../../src/main/core/ledger/merkle/merkle-store.ts';
import type { ReceiptRow } from '../../src/main/core/ledger/receipt-row.ts';
import type { ReceiptDraft } from '../../src/main/core/ledger/receipt-body.ts';
import { SCHEMA_VERSION } from '../../src/main/core/store/migrations.ts';

/** The schema version before the receipts table was rewritten for size (receipts-layout.ts). */
export const BEFORE_COMPACT_RECEIPTS = SCHEMA_VERSION - 1;

/**
 * Appends a receipt as Ledger.append wrote it at BEFORE_COMPACT_RECEIPTS: the same sealed
 * receipt, its body's fields copied into columns, hashes as hex and the signature as base64
 * text; its bodies and Merkle nodes as ever. `tip` is the previous row (null for the first).
 */
export function appendAsBefore(db: Database.Database, signer: Ed25519Signer, draft: ReceiptDraft, tip: ReceiptRow | null): ReceiptRow {
  const seq = (tip?.seq ?? 0) + 1;
  const time = new Date(Date.UTC(2026, 0, 1) + seq * 1000).toISOString();
  const { row, bodies } = sealReceipt(draft, seq, tip?.hash ?? '0'.repeat(64), time, signer);
  const writer = writerOf(db);
  writer.insert.run(row);
  writer.bodies.store(seq, bodies);
  writer.tree.append(seq - 1, Buffer.from(row.hash, 'hex'), tip ? Buffer.from(tip.hash, 'hex') : null);
  return row;
}

const writers = new WeakMap<Database.Database, { insert: Database.Statement; bodies: ReceiptBodies; tree: MerkleStore }>();

function writerOf(db: Database.Database) {
  let writer = writers.get(db);
  if (writer === undefined) {
    writer = {
      insert: db.prepare(
        `INSERT INTO receipts (seq, event, time, action, hash, prev_hash, body, signature, reason,
           exec_id, proposal_id, approval_id, approver_key_id, request_hash, grant_id)
         VALUES (@seq, @event, @time, @action, @hash, @prev_hash, @body, @signature, @reason,
           @exec_id, @proposal_id, @approval_id, @approver_key_id, @request_hash, @grant_id)`,
      ),
      bodies: new ReceiptBodies(db),
      tree: new MerkleStore(db),
    };
    writers.set(db, writer);
  }
  return writer;
}
