/**
 * The boundary's exactly-once state behind one asynchronous interface: the receipt chain, the
 * spent nonces and the spent approvals, written together in witnessed transactions. The
 * PostgreSQL store (./postgres) and the SQLite adapter (./sqlite/sqlite-ledger-store.ts, over
 * the ledger and execution store the core runs on) implement it.
 */
import type { ReceiptCountDto, ReceiptDto, ReceiptPage } from '../../../shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../../../shared/console-schemas.ts';
import type { VerifiedApproval } from '../approval/validate-approval.ts';
import type { ApprovalUse, Reservation } from '../engine/execution-store.ts';
import type { ReceiptDraft } from '../ledger/receipt-body.ts';
import type { PurgeDto } from '../../../shared/retention.ts';
import type { LedgerReads } from './ledger-reads.ts';

/** The chain's newest receipt: seq 0 and the genesis hash while the ledger is empty. */
export interface LedgerHead {
  seq: number;
  hash: string;
}

export interface ApprovalSpend {
  approval: VerifiedApproval;
  action: string;
  verifiedAt: string;
  /** The execution (reserved in the same transaction) that consumes it. */
  execId: string;
}

/** What a witnessed write may do; valid only until its `work` settles. */
export interface LedgerTransaction {
  /**
   * Seals and appends one receipt at the next seq, linked to the current head. An instance
   * whose receipt key the ledger does not hold yet first appends the `config` receipt that
   * registers it (docs/receipts.md), in the same transaction.
   */
  append(draft: ReceiptDraft): Promise<ReceiptDto>;
  /** Spends the nonce: true if this transaction took it, false if it was spent before. */
  reserveNonce(reservation: Reservation): Promise<boolean>;
  /**
   * Spends the approval, keyed by its id and by its signed message's hash: null when this
   * transaction spent it, otherwise the earlier use (under either key).
   */
  spendApproval(spend: ApprovalSpend): Promise<ApprovalUse | null>;
}

/** What another process committed, as far as a follower can tell. */
export interface LedgerChange {
  head: number;
  /** Proposals those receipts are about; null when unknown (too many, or missed while reconnecting). */
  proposalIds: string[] | null;
}

export interface LedgerStore {
  /**
   * Runs `work` in the next group transaction (with others submitted meanwhile, each in its
   * own savepoint): its receipts, nonces and approvals commit together or not at all, and the
   * promise settles after COMMIT. If `work` throws, its part is rolled back and the promise
   * rejects; the rest of the group still commits. `work` should do nothing but its
   * transaction's operations: the group holds the ledger, for every instance, until it ends.
   *
   * On SQLite `work` must settle within its own event-loop turn: it may await its
   * transaction's operations and the SQLite record stores, never a timer, I/O or a thread.
   * The connection is shared and synchronous, so a transaction left open across turns would
   * let other work read and write inside it; a piece that waits is rolled back and rejects
   * with WitnessSuspended (sqlite/within-turn.ts). PostgreSQL has no such limit, but a piece
   * that waits holds the ledger lock meanwhile.
   */
  witness<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T>;
  head(): Promise<LedgerHead>;
  /** Up to `limit` receipts from `fromSeq` upwards, in seq order. */
  readRange(fromSeq: number, limit: number): Promise<ReceiptDto[]>;
  /** The console's search (filters, full text, newest first, keyset pages). */
  search(query: ReceiptQuery): Promise<ReceiptPage>;
  /** The search's count alone (`total`), with the newest seq it covers: see ReceiptCountDto. */
  count(query: ReceiptCountQuery): Promise<ReceiptCountDto>;
  /**
   * Retention (docs/receipts.md): the bodies of receipts, executions' results and decided
   * proposals older than `cutoff` (ms) go, under one `purge` config receipt, in one write in
   * order with every other; every receipt still verifies. A purge that finds nothing writes nothing.
   */
  purgeOlderThan(cutoff: number, trigger: 'retention' | 'operator'): Promise<PurgeDto>;
  /** One receipt with its neighbours, one receipt verified, the config receipts start-up looks for. */
  readonly reads: LedgerReads;
  /**
   * The id of the receipt key this instance signs with (each receipt names it as
   * `receipt_key_id`): on PostgreSQL one key per instance, so a receipt naming another was
   * committed by another instance; on SQLite the ledger's one key.
   */
  readonly keyId: string;
  /**
   * Hears receipts after they commit, in seq order, each once: this instance's; on PostgreSQL
   * opened with `follow`, every instance's (pg-receipt-feed.ts).
   */
  subscribe(listener: (receipts: readonly ReceiptDto[]) => void): () => void;
  close(): Promise<void>;
}
