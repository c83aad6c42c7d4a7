import type { SqliteDatabase } from '../store/database.ts';
import type { Ed25519Signer } from '../crypto/ed25519.ts';
import type { Clock } from '../clock.ts';
import { isoUtc } from '../clock.ts';
import { canonicalJson } from '../json/canonical.ts';
import { sha256Hex } from '../json/request-hash.ts';
import type { ReceiptDto } from '../../../shared/console-dto.ts';
import { buildReceiptBody, GENESIS_PREV_HASH, splitBodies, type ReceiptDraft } from './receipt-body.ts';
import { ReceiptBodies } from './receipt-bodies.ts';
import type { JsonObject } from '../json/json-value.ts';
import { receiptFromRow, type ReceiptRow } from './receipt-row.ts';
import { searchableText } from './searchable-text.ts';
import { MerkleStore } from './merkle/merkle-store.ts';

export type ReceiptListener = (receipt: ReceiptDto) => void;

/**
 * The append-only, hash-chained, signed receipt ledger. `append` must run inside the
 * caller's transaction, so a receipt commits or rolls back together with the decision it
 * witnesses; listeners hear of it only after that transaction has committed.
 */
export class Ledger {
  private readonly insert;
  private readonly last;
  private readonly index;
  private readonly pending: ReceiptDto[] = [];
  private readonly listeners = new Set<ReceiptListener>();
  /** The receipts' Merkle tree, grown in the same transaction as each receipt. */
  readonly tree: MerkleStore;
  /** The payloads, contexts, previews and results receipts commit to by salted hash. */
  readonly bodies: ReceiptBodies;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly signer: Ed25519Signer,
    private readonly clock: Clock,
  ) {
    this.insert = db.prepare(
      `INSERT INTO receipts (seq, event, time, action, hash, prev_hash, body, signature, reason,
         exec_id, proposal_id, approval_id, approver_key_id, request_hash, grant_id)
       VALUES (@seq, @event, @time, @action, @hash, @prev_hash, @body, @signature, @reason,
         @exec_id, @proposal_id, @approval_id, @approver_key_id, @request_hash, @grant_id)`,
    );
    this.last = db.prepare('SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1');
    this.index = db.prepare('INSERT INTO receipts_fts (rowid, action, reason, context, payload) VALUES (?, ?, ?, ?, ?)');
    this.tree = new MerkleStore(db);
    this.bodies = new ReceiptBodies(db);
  }

  /** How many receipts the ledger holds (seq is gapless, so the last seq). */
  size(): number {
    const tip = this.last.get() as { seq: number } | undefined;
    return tip?.seq ?? 0;
  }

  get keyId(): string {
    return this.signer.keyId;
  }

  get publicKey(): Uint8Array {
    return this.signer.publicKey;
  }

  /** Appends one receipt. Call only inside a transaction (see class comment). */
  append(draft: ReceiptDraft): ReceiptDto {
    if (!this.db.inTransaction) throw new Error('Ledger.append called outside a transaction');
    // Read the tip every time rather than caching it: a rolled-back savepoint would
    // otherwise leave a cached tip pointing at a receipt that never committed.
    const tip = this.last.get() as { seq: number; hash: string } | undefined;
    const seq = (tip?.seq ?? 0) + 1;
    const prevHash = tip?.hash ?? GENESIS_PREV_HASH;
    const time = isoUtc(this.clock.now());
    // The leaf and the signature cover the salted hashes, never the bodies themselves.
    const { signed, bodies } = splitBodies(draft);
    const sealed = this.bodies.seal(bodies);
    let saltedHashes: JsonObject | null = null;
    if (sealed.length > 0) {
      saltedHashes = Object.create(null) as JsonObject;
      for (const b of sealed) saltedHashes[b.field] = b.hash;
    }
    const body = canonicalJson(buildReceiptBody(signed, seq, prevHash, time, this.signer.keyId, saltedHashes));
    const bodyBytes = Buffer.from(body, 'utf8');
    const row: ReceiptRow = {
      seq,
      event: draft.event,
      time,
      action: draft.action ?? null,
      hash: sha256Hex(bodyBytes),
      prev_hash: prevHash,
      body,
      signature: Buffer.from(this.signer.sign(bodyBytes)).toString('base64'),
      reason: draft.reason ?? null,
      exec_id: draft.exec_id ?? null,
      proposal_id: draft.proposal_id ?? null,
      approval_id: draft.approval_id ?? null,
      approver_key_id: draft.approver_key_id ?? null,
      request_hash: draft.request_hash ?? null,
      grant_id: draft.grant_id ?? null,
    };
    this.insert.run(row);
    this.bodies.store(seq, sealed);
    this.tree.append(seq - 1, Buffer.from(row.hash, 'hex'), tip ? Buffer.from(tip.hash, 'hex') : null);
    this.index.run(seq, row.action, row.reason, draft.context ?? null, searchableText(draft.payload));
    const dto = receiptFromRow(
      row,
      sealed.map((b) => ({ field: b.field, salt: b.salt.toString('hex'), text: b.text, purgedAt: null, purgeSeq: null })),
    );
    this.pending.push(dto);
    return dto;
  }

  /**
   * The witnessed write: `work` (a state change and the receipts that witness it) in one
   * immediate write transaction; the receipts are announced once it has committed and
   * forgotten if it rolls back (the error is rethrown). The engine's group commit is the one
   * other owner of this protocol, with a savepoint per request.
   */
  witness<T>(work: () => T): T {
    let result: T;
    try {
      result = this.db.transaction(work).immediate();
    } catch (err) {
      this.discardUncommitted();
      throw err;
    }
    this.publishCommitted();
    return result;
  }

  /** Called by the transaction owner after COMMIT: tells listeners what is now durable. */
  publishCommitted(): void {
    if (this.pending.length === 0) return;
    const committed = this.pending.splice(0);
    for (const receipt of committed) for (const l of this.listeners) l(receipt);
  }

  /** How many appended receipts await their commit; a mark for `forgetAfter`. */
  uncommittedCount(): number {
    return this.pending.length;
  }

  /** A savepoint rolled back: the receipts appended after `mark` do not exist. */
  forgetAfter(mark: number): void {
    this.pending.length = mark;
  }

  /** Called after ROLLBACK: nothing appended since the last publish exists. */
  discardUncommitted(): void {
    this.pending.length = 0;
  }

  subscribe(listener: ReceiptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
