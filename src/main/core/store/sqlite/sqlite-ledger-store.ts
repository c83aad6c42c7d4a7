import type { ReceiptCountDto, ReceiptDto, ReceiptPage } from '../../../../shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../../../../shared/console-schemas.ts';
import type { ExecutionStore } from '../../engine/execution-store.ts';
import type { Ledger } from '../../ledger/ledger.ts';
import { purgeOlderThan, type PurgeableTable } from '../../ledger/purge.ts';
import type { PurgeDto } from '../../../../shared/retention.ts';
import { GENESIS_PREV_HASH } from '../../ledger/receipt-body.ts';
import type { SqliteDatabase } from '../database.ts';
import type { LedgerHead, LedgerStore, LedgerTransaction } from '../ledger-store.ts';
import { announce } from '../postgres/pg-notice.ts';
import { settleWithinTurn, WitnessSuspended } from './within-turn.ts';
import { SqliteLedgerReads } from './sqlite-ledger-reads.ts';
import { Ed25519Verifier } from '../../crypto/ed25519.ts';

interface Piece {
  work: (tx: LedgerTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type PieceOutcome = { ok: true; value: unknown } | { ok: false; err: unknown };

/** Whether a piece's handle may still be used, and how many operations it has called. */
interface PieceState {
  open: boolean;
  calls: number;
}

const pieces = new WeakMap<LedgerTransaction, PieceState>();

/**
 * Throws unless `tx` is a piece of a SQLite witnessed write that has not ended: what a SQLite
 * record store's `within(tx)` checks before each write, so a piece that ran past its end (see
 * within-turn.ts) cannot write outside the transaction it was given.
 */
export function assertOpenPiece(tx: LedgerTransaction): void {
  const state = pieces.get(tx);
  if (state === undefined) throw new Error('not a SQLite witnessed write');
  if (!state.open) throw new Error('this witnessed write has already ended');
  state.calls++;
}

/** The group's receipts and pieces, once the transaction holding them has ended. */
class GroupLost extends Error {
  constructor(override readonly cause: unknown) {
    super('the group transaction was rolled back');
  }
}

/**
 * The LedgerStore over the SQLite ledger and execution store the core runs on, on their one
 * connection, on which the engine runs (its group commit moved here from the engine): the
 * pieces submitted in one event-loop turn share one BEGIN IMMEDIATE, each in its own savepoint (a failing piece rolls
 * back alone), every promise settles after COMMIT, and receipts are announced after it.
 *
 * **A piece must settle within its own turn.** The whole group, BEGIN to COMMIT, runs in the
 * microtasks of the turn that flushes it and never yields to the event loop (within-turn.ts
 * says why). A piece that waits for a timer, I/O or a thread is found out by counting microtask
 * rounds, not by time: its savepoint is rolled back, its promise rejects with WitnessSuspended,
 * its handle refuses every later call, and the rest of the group commits.
 *
 * **One receipt key per ledger.** A SQLite ledger is signed by the one key of its key file,
 * fixed by its first receipt (the core refuses to start with another, and `verify-ledger`
 * checks every receipt against it, pinned by `--key-id`); so, unlike PostgreSQL's instances,
 * it appends no `config` receipt registering that key, and a store opened with another key
 * over a non-empty ledger is refused.
 *
 * SQLITE_FULL: a piece that finds storage full fails alone when SQLite kept the transaction
 * open; when SQLite rolled the whole transaction back itself, every piece of the group fails
 * with it (none of the group's work exists).
 */
export class SqliteLedgerStore implements LedgerStore {
  private queue: Piece[] = [];
  private scheduled = false;
  private closed = false;
  private readonly listeners = new Set<(receipts: readonly ReceiptDto[]) => void>();
  /** Receipts the ledger has published since the last announcement. */
  private heard: ReceiptDto[] = [];
  private readonly begin;
  private readonly commit;
  private readonly rollback;
  private readonly savepoint;
  private readonly release;
  private readonly rollbackPiece;
  readonly reads: SqliteLedgerReads;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly ledger: Ledger,
    private readonly executions: ExecutionStore,
    /** The proposals table, whose decided proposals' bodies a purge clears with the receipts'. */
    private readonly proposals: PurgeableTable,
  ) {
    const signedBy = ledger.read.signedBy();
    if (signedBy !== null && signedBy !== ledger.keyId) {
      throw new Error(`this ledger is signed by receipt key ${signedBy}, not ${ledger.keyId}: a SQLite ledger has one receipt key`);
    }
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT piece');
    this.release = db.prepare('RELEASE piece');
    this.rollbackPiece = db.prepare('ROLLBACK TO piece');
    this.reads = new SqliteLedgerReads(ledger.read, new Ed25519Verifier(ledger.publicKey), assertOpenPiece);
    // Every receipt committed on this connection, by a witnessed write here or by a store that
    // still writes the ledger synchronously (Ledger.witness), is this store's: announced together
    // once the ledger has published them.
    ledger.subscribe((receipt) => {
      if (this.listeners.size === 0) return;
      if (this.heard.push(receipt) === 1) queueMicrotask(() => announce(this.listeners, this.heard.splice(0)));
    });
  }

  get keyId(): string {
    return this.ledger.keyId;
  }

  witness<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the ledger store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    this.scheduled = false;
    const outcomes: PieceOutcome[] = [];
    try {
      this.begin.run();
      for (const piece of batch) outcomes.push(await this.runPiece(piece));
      this.commit.run();
    } catch (err) {
      const cause = err instanceof GroupLost ? err.cause : err;
      if (this.db.inTransaction) this.rollback.run();
      this.ledger.discardUncommitted();
      for (const piece of batch) piece.reject(cause);
      return;
    }
    this.ledger.publishCommitted();
    batch.forEach((piece, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) piece.resolve(outcome.value);
      else piece.reject(outcome.err);
    });
  }

  /** One piece in the savepoint `piece`; throws GroupLost when SQLite ended the whole transaction. */
  private async runPiece(piece: Piece): Promise<PieceOutcome> {
    const state: PieceState = { open: true, calls: 0 };
    const mark = this.ledger.uncommittedCount();
    const tx = this.view(state);
    this.savepoint.run();
    let running: Promise<unknown>;
    try {
      running = piece.work(tx);
    } catch (err) {
      running = Promise.reject(err);
    }
    const settled = await settleWithinTurn(running, () => state.calls);
    state.open = false;
    if (settled.settled && settled.ok) {
      this.release.run();
      return { ok: true, value: settled.value };
    }
    const err = settled.settled ? settled.err : new WitnessSuspended();
    if (!this.db.inTransaction) throw new GroupLost(err);
    this.rollbackPiece.run();
    this.release.run();
    this.ledger.forgetUncommittedSince(mark);
    return { ok: false, err };
  }

  private view(state: PieceState): LedgerTransaction {
    const guard =
      <A extends unknown[], R>(op: (...args: A) => R) =>
      (...args: A): Promise<R> => {
        if (!state.open) return Promise.reject(new Error('this witnessed write has already ended'));
        state.calls++;
        try {
          return Promise.resolve(op(...args));
        } catch (err) {
          return Promise.reject(err);
        }
      };
    const tx: LedgerTransaction = {
      append: guard((draft) => this.ledger.append(draft)),
      // A failed statement leaves SQLite's transaction as it was, so each spends first and reads
      // only when that was refused (the engine has just checked both unspent).
      reserveNonce: guard((reservation) => {
        try {
          this.executions.reserve(reservation);
          return true;
        } catch (err) {
          // Refused because the nonce was spent before; anything else is an error.
          if (this.executions.findByNonce(reservation.nonce) === undefined) throw err;
          return false;
        }
      }),
      spendApproval: guard(({ approval, action, verifiedAt, execId }) => {
        try {
          this.executions.spendApproval(approval, action, verifiedAt, execId);
          return null;
        } catch (err) {
          const earlier = this.executions.approvalUsedBy(approval);
          if (earlier === null) throw err;
          return earlier;
        }
      }),
    };
    pieces.set(tx, state);
    return tx;
  }

  async head(): Promise<LedgerHead> {
    const seq = this.ledger.read.size();
    return { seq, hash: seq === 0 ? GENESIS_PREV_HASH : this.ledger.read.hashAt(seq)! };
  }

  async readRange(fromSeq: number, limit: number): Promise<ReceiptDto[]> {
    // seq is gapless: the `limit` receipts below fromSeq + limit, newest first, are the range,
    // each with the bodies kept beside it (as on PostgreSQL).
    const page = this.ledger.read.search({ beforeSeq: fromSeq + limit, limit });
    return page.items.reverse();
  }

  async search(query: ReceiptQuery): Promise<ReceiptPage> {
    return this.ledger.read.search(query);
  }

  async count(query: ReceiptCountQuery): Promise<ReceiptCountDto> {
    return this.ledger.read.count(query);
  }

  /**
   * Synchronous underneath, in a transaction of its own: it is called between turns, never
   * inside a group (a group begins and commits within one turn).
   */
  async purgeOlderThan(cutoff: number, trigger: 'retention' | 'operator'): Promise<PurgeDto> {
    if (this.closed) throw new Error('the ledger store is closed');
    return purgeOlderThan(this.db, this.ledger, { executions: this.executions, proposals: this.proposals }, cutoff, trigger);
  }

  subscribe(listener: (receipts: readonly ReceiptDto[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Refuses new writes; those already submitted still run (their group is scheduled). The
   * connection is the caller's, so it stays open.
   */
  async close(): Promise<void> {
    this.closed = true;
    while (this.scheduled) await new Promise((resolve) => setImmediate(resolve));
  }
}
