import Database from 'better-sqlite3';
import type { SqliteDatabase } from '../store/database.ts';
import type { Ed25519Verifier } from '../crypto/ed25519.ts';
import type { ApproverKeys } from '../approval/check-evidence.ts';
import type {
  ChainCheckDto,
  ChainRangeDto,
  ReceiptCheckDto,
  ReceiptCountDto,
  ReceiptPage,
  ReceiptWithNeighboursDto,
} from '../../../shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../../../shared/console-schemas.ts';
import { countReceiptsThrough, receiptWithNeighbours, searchReceipts } from './receipt-search.ts';
import {
  approvalsWithoutEvidence,
  firstBodyNotJson,
  verifyChain,
  verifyChainRange,
  verifyOneReceipt,
  verifyTail,
} from './verify-ledger.ts';
import { sideTableProblems } from './verify-side-tables.ts';
import { compareWithCheckpoints, type CheckpointVerdict, type SavedCheckpoint } from './checkpoint/compare-checkpoints.ts';
import { lastBackup, type LastBackup } from './backup.ts';

/** The newest `config` receipt of one kind (its `details.kind`). */
export interface ConfigReceipt {
  seq: number;
  time: string;
  /** The signed body, as stored. */
  body: string;
}

/**
 * The ledger package's read API: everything outside src/main/core/ledger that needs to look at
 * the receipts asks here, over the running core's connection or (the CLI's offline checks) a
 * read-only one of its own. Nothing here writes.
 */
export class LedgerReader {
  private readonly tip;
  private readonly hashOf;
  private readonly newestConfig;
  private readonly everyConfig;
  private readonly newestKey;
  private readonly configBy;

  /** A reader over its own read-only connection to the file at `path`: `close` it when done. */
  static openReadOnly(path: string): LedgerReader {
    const db = new Database(path, { readonly: true, fileMustExist: true });
    try {
      return new LedgerReader(db, true);
    } catch (err) {
      // Not a ledger (no receipts table): nothing to read, nothing left open.
      db.close();
      throw err;
    }
  }

  constructor(
    private readonly db: SqliteDatabase,
    /** Whether the connection is this reader's own (openReadOnly), to close with it. */
    private readonly ownsConnection = false,
  ) {
    this.tip = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck();
    this.hashOf = db.prepare('SELECT hash FROM receipts WHERE seq = ?').pluck();
    this.newestConfig = db.prepare(
      `SELECT seq, time, body FROM receipts WHERE event = 'config' AND json_extract(body, '$.details.kind') = ?
       ORDER BY seq DESC LIMIT 1`,
    );
    this.everyConfig = db.prepare(
      `SELECT seq, time, body FROM receipts WHERE event = 'config' AND json_extract(body, '$.details.kind') = ? ORDER BY seq`,
    );
    this.configBy = db
      .prepare(`SELECT 1 FROM receipts WHERE event = 'config' AND approver_key_id = ? AND json_extract(body, '$.details.kind') = ? LIMIT 1`)
      .pluck();
    this.newestKey = db
      .prepare("SELECT coalesce(json_extract(body, '$.receipt_key_id'), '') FROM receipts ORDER BY seq DESC LIMIT 1")
      .pluck();
  }

  /** Closes the connection if it is this reader's own; the running core's stays open. */
  close(): void {
    if (this.ownsConnection) this.db.close();
  }

  /** How many receipts there are (seq is gapless, so the last seq). */
  size(): number {
    return this.tip.get() as number;
  }

  /** The hash of receipt `seq`, or null when there is none. */
  hashAt(seq: number): string | null {
    return (this.hashOf.get(seq) as string | undefined) ?? null;
  }

  /** The receipt key id the newest receipt was signed with ('' when it names none); null for an empty ledger. */
  signedBy(): string | null {
    return (this.newestKey.get() as string | undefined) ?? null;
  }

  /** Whether a `config` receipt of this kind was signed off by this approver key. */
  hasConfigBy(kind: string, approverKeyId: string): boolean {
    return this.configBy.get(approverKeyId, kind) !== undefined;
  }

  /** Every `config` receipt of this kind, oldest first. */
  configsOf(kind: string): ConfigReceipt[] {
    return this.everyConfig.all(kind) as ConfigReceipt[];
  }

  latestConfig(kind: string): ConfigReceipt | null {
    return (this.newestConfig.get(kind) as ConfigReceipt | undefined) ?? null;
  }

  search(query: ReceiptQuery): ReceiptPage {
    return searchReceipts(this.db, query);
  }

  count(query: ReceiptCountQuery): ReceiptCountDto {
    return countReceiptsThrough(this.db, query);
  }

  withNeighbours(seq: number): ReceiptWithNeighboursDto | null {
    return receiptWithNeighbours(this.db, seq);
  }

  verifyOne(verifier: Ed25519Verifier, seq: number, approvers: ApproverKeys | null = null): ReceiptCheckDto | null {
    return verifyOneReceipt(this.db, verifier, seq, approvers);
  }

  verifyChain(verifier: Ed25519Verifier, approvers: ApproverKeys | null = null): ChainCheckDto {
    return verifyChain(this.db, verifier, approvers);
  }

  verifyRange(verifier: Ed25519Verifier, fromSeq: number, limit: number, approvers: ApproverKeys | null = null): ChainRangeDto {
    return verifyChainRange(this.db, verifier, fromSeq, limit, approvers);
  }

  /** The newest `count` receipts, checked (doctor's quick look; verify-ledger checks them all). */
  verifyTail(verifier: Ed25519Verifier, count: number): ChainCheckDto {
    return verifyTail(this.db, verifier, count);
  }

  /** Executions and approvals held to the receipts that witness them; up to `limit` problems. */
  sideTableProblems(limit?: number): string[] {
    return sideTableProblems(this.db, limit);
  }

  /** The first receipt whose body is not JSON (a table rebuilt around it, verify-ledger.ts), or null. */
  firstBodyNotJson(): number | null {
    return firstBodyNotJson(this.db);
  }

  approvalsWithoutEvidence(): number {
    return approvalsWithoutEvidence(this.db);
  }

  compareWithCheckpoints(saved: readonly SavedCheckpoint[]): CheckpointVerdict {
    return compareWithCheckpoints(this.db, saved);
  }

  lastBackup(): LastBackup | null {
    return lastBackup(this.db);
  }
}
