import type { SqliteDatabase } from '../store/database.ts';
import type { Ed25519Signer } from '../crypto/ed25519.ts';
import type { Clock } from '../clock.ts';
import { isoUtc } from '../clock.ts';
import type { ReceiptDto } from '../../../shared/console-dto.ts';
import { GENESIS_PREV_HASH, type ReceiptDraft } from './receipt-body.ts';
import { receiptFromRow } from './receipt-row.ts';
import { sealReceipt } from './seal-receipt.ts';
import { searchIndexOf, type SearchIndex } from './search-index.ts';
import { randomSalt, ReceiptBodies, type SaltSource } from './receipt-bodies.ts';
import { MerkleStore } from './merkle/merkle-store.ts';
import { LedgerReader } from './ledger-reader.ts';
import { backupLedger } from './backup.ts';
import type { Ed25519Verifier } from '../crypto/ed25519.ts';
import type { BackupDto } from '../../../shared/hardening.ts';

export type ReceiptListener = (receipt: ReceiptDto) => void;

/**
 * The append-only, hash-chained, signed receipt ledger. `append` must run inside the
 * caller's transaction, so a receipt commits or rolls back together with the decision it
 * witnesses; listeners hear of it only after that transaction has committed.
 */
export class Ledger {
  private readonly insert;
  private readonly last;
  /** The full-text index, caught up after commits rather than written by each append. */
  private readonly search: SearchIndex;
  private readonly pending: ReceiptDto[] = [];
  private readonly listeners = new Set<ReceiptListener>();
  /** The receipts' Merkle tree, grown in the same transaction as each receipt. */
  readonly tree: MerkleStore;
  /** Search, neighbours and verification, for everything outside the ledger package. */
  readonly read: LedgerReader;
  /** The payloads, contexts, previews and results receipts commit to by salted hash. */
  readonly bodies: ReceiptBodies;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly signer: Ed25519Signer,
    private readonly clock: Clock,
    private readonly salts: SaltSource = randomSalt,
  ) {
    // The rest of the row is read from the body (receipts-layout.ts).
    this.insert = db.prepare('INSERT INTO receipts (seq, hash_bytes, signature_bytes, event, action, body) VALUES (?, ?, ?, ?, ?, ?)');
    this.last = db.prepare('SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1');
    this.search = searchIndexOf(db);
    this.tree = new MerkleStore(db);
    this.read = new LedgerReader(db);
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
    const { row, bodies: sealed } = sealReceipt(draft, seq, prevHash, isoUtc(this.clock.now()), this.signer, this.salts);
    const hash = Buffer.from(row.hash, 'hex');
    this.insert.run(seq, hash, Buffer.from(row.signature, 'base64'), row.event, row.action, row.body);
    this.bodies.store(seq, sealed);
    this.tree.append(seq - 1, hash, tip ? Buffer.from(tip.hash, 'hex') : null);
    const dto = receiptFromRow(
      { ...row, agent: draft.agent ?? null },
      sealed.map((b) => ({ field: b.field, salt: b.salt.toString('hex'), text: b.text, purgedAt: null, purgeSeq: null })),
    );
    this.pending.push(dto);
    return dto;
  }

  /**
   * The witnessed write: `work` (a state change and the receipts that witness it) in one
   * immediate write transaction; the receipts are announced once it has committed and
   * forgotten if it rolls back (the error is rethrown). The engine's group commit runs a whole
   * group of requests in one, each in its own `savepoint`.
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

  /**
   * Inside a witnessed write: `work` in a savepoint of its own. If it throws, what it wrote is
   * rolled back and the receipts it appended are forgotten (the error is rethrown); the rest of
   * the transaction stands.
   */
  savepoint<T>(work: () => T): T {
    if (!this.db.inTransaction) throw new Error('Ledger.savepoint called outside a witnessed write');
    const mark = this.pending.length;
    try {
      return this.db.transaction(work)();
    } catch (err) {
      this.pending.length = Math.min(mark, this.pending.length);
      throw err;
    }
  }

  /** Called by the transaction owner after COMMIT: tells listeners what is now durable. */
  publishCommitted(): void {
    if (this.pending.length === 0) return;
    this.search.schedule();
    const committed = this.pending.splice(0);
    for (const receipt of committed) for (const l of this.listeners) l(receipt);
  }

  /** How many appended receipts await their commit. */
  uncommittedCount(): number {
    return this.pending.length;
  }

  /**
   * After a savepoint that `savepoint` did not run was rolled back (an asynchronous piece,
   * store/sqlite/sqlite-ledger-store.ts): the receipts appended since `mark` (an
   * `uncommittedCount()`) do not exist.
   */
  forgetUncommittedSince(mark: number): void {
    this.pending.length = Math.min(mark, this.pending.length);
  }

  /** Called after ROLLBACK: nothing appended since the last publish exists. */
  discardUncommitted(): void {
    this.pending.length = 0;
  }

  /** An online copy of the whole database, verified, then witnessed by a `config` receipt (see backup.ts). */
  backup(verifier: Ed25519Verifier, path: string): Promise<BackupDto> {
    return backupLedger(this.db, this, verifier, path);
  }

  subscribe(listener: ReceiptListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
