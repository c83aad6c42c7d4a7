import { randomSalt, type SaltSource } from '../../ledger/receipt-bodies.ts';
import type pg from 'pg';
import type { Clock } from '../../clock.ts';
import { systemClock } from '../../clock.ts';
import type { Ed25519Signer } from '../../crypto/ed25519.ts';
import type { ReceiptCountDto, ReceiptDto, ReceiptPage } from '../../../../shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../../../../shared/console-schemas.ts';
import type { LedgerHead, LedgerStore, LedgerTransaction } from '../ledger-store.ts';
import { PostgresLedgerReads } from './pg-ledger-reads.ts';
import { PG_SCHEMA_VERSION, schemaVersion } from './pg-migrations.ts';
import { announce, commitStatement } from './pg-notice.ts';
import { checkout, connectionLost, describeServer, openPool, PostgresStoreError } from './pg-pool.ts';
import { RECEIPT_WITH_BODIES, receiptFromPgRow, type PgReceiptRow } from './pg-receipt-rows.ts';
import { countPostgres, searchPostgres } from './pg-search.ts';
import { purgeWithin } from './pg-purge.ts';
import type { PurgeDto } from '../../../../shared/retention.ts';
import { beginGroup, GroupTransaction, readHead } from './pg-transaction.ts';
import { LedgerFollower } from './pg-follow.ts';
import { ReceiptFeed } from './pg-receipt-feed.ts';

interface Piece {
  work: (tx: LedgerTransaction) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

/** The command tag of a query's last statement (a simple query of several answers each). */
function lastCommand(answer: pg.QueryResult | pg.QueryResult[]): string | null {
  const last = Array.isArray(answer) ? answer[answer.length - 1] : answer;
  return last?.command ?? null;
}

export interface PostgresLedgerOptions {
  /** The application role's URL (SECURITY.md): it may append receipts, never change them. */
  url: string;
  /** This instance's receipt key. */
  signer: Ed25519Signer;
  clock?: Clock;
  /** Where body salts come from (random; a test may fix them to compare ledgers byte for byte). */
  salts?: SaltSource;
  /** Connections in all: one for the group transactions, the rest (at least one) for reads. */
  maxConnections?: number;
  onIdleError?: (err: PostgresStoreError) => void;
  /** See OpenPoolOptions.idleInTransactionMs. */
  idleInTransactionMs?: number;
  /**
   * Hear every instance's receipts, not only this one's: `subscribe` then delivers each receipt
   * of the shared ledger once, in seq order, as it commits (LISTEN/NOTIFY on a connection of its
   * own, pg-follow.ts, and a read of what the notice announced, pg-receipt-feed.ts).
   * `onError` hears a lost notification connection (it reconnects and reads what it missed)
   * or a failed read (tried again at the next commit or notice).
   */
  follow?: { onError?: (err: unknown) => void };
}

/**
 * The ledger on PostgreSQL, for several OpenExec processes on one database, each signing with
 * its own receipt key, which its first receipt's group registers (a `config` receipt,
 * pg-receipt-keys.ts) unless the ledger already holds it. Appends are
 * group-committed: the work submitted while a group is being written waits for the next one,
 * which runs in one transaction holding a transaction-scoped advisory lock (so processes take
 * turns and seq stays gapless), each piece in a savepoint when there are several. The group's
 * NOTIFY goes in the COMMIT's round trip and is delivered by the server when, and only if, it
 * commits.
 */
export class PostgresLedgerStore implements LedgerStore {
  private queue: Piece[] = [];
  private flushing = false;
  private closed = false;
  /** The one close, however often close() is called. */
  private closing: Promise<void> | null = null;
  /** Called once nothing is queued or being written (close() waits for it). */
  private onDrained: (() => void) | null = null;
  private readonly listeners = new Set<(receipts: readonly ReceiptDto[]) => void>();
  /** Known once a committed group found or wrote this instance's key registration. */
  private keyRegistered = false;
  /** With `follow`: every instance's receipts, and the notices that announce them. */
  private feed: ReceiptFeed | null = null;
  private follower: LedgerFollower | null = null;
  readonly reads: PostgresLedgerReads;

  /**
   * @param pool reads
   * @param writer the group transactions, one at a time, on a connection that pipelines
   *   (pg-left-behind.ts)
   */
  private constructor(
    private readonly pool: pg.Pool,
    private readonly writer: pg.Pool,
    private readonly signer: Ed25519Signer,
    private readonly clock: Clock,
    private readonly salts: SaltSource,
  ) {
    this.reads = new PostgresLedgerReads(pool);
  }

  /** Connects as the application role; the schema must be at this version (the owner migrates). */
  static async open(options: PostgresLedgerOptions): Promise<PostgresLedgerStore> {
    const common = { onIdleError: options.onIdleError, idleInTransactionMs: options.idleInTransactionMs };
    const pool = await openPool(options.url, { ...common, max: Math.max(1, (options.maxConnections ?? 10) - 1) });
    let writer: pg.Pool;
    try {
      const version = await schemaVersion(pool);
      if (version !== PG_SCHEMA_VERSION) {
        throw new PostgresStoreError(
          'schema',
          `PostgreSQL at ${describeServer(options.url)} has schema version ${version}, this OpenExec needs ${PG_SCHEMA_VERSION}` +
            (version < PG_SCHEMA_VERSION ? ' (run the migrations as the database owner)' : ''),
        );
      }
      writer = await openPool(options.url, { ...common, max: 1, pipeline: true });
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof PostgresStoreError) throw err;
      throw PostgresStoreError.from('unavailable', `cannot read the schema version at ${describeServer(options.url)}`, err);
    }
    const store = new PostgresLedgerStore(pool, writer, options.signer, options.clock ?? systemClock, options.salts ?? randomSalt);
    if (options.follow) {
      try {
        await store.startFollowing(options.url, options.follow.onError);
      } catch (err) {
        await store.close();
        throw err;
      }
    }
    return store;
  }

  /**
   * Listens first, then reads the head the feed starts from: a notice sent in between announces
   * a head the feed already starts beyond, so nothing committed after the head is missed.
   */
  private async startFollowing(url: string, onError: ((err: unknown) => void) | undefined): Promise<void> {
    this.follower = await LedgerFollower.start({
      url,
      keyId: this.signer.keyId,
      onChange: (change) => this.feed?.changed(change.head),
      onError,
    });
    this.feed = new ReceiptFeed({
      startHead: (await this.head()).seq,
      readRange: (fromSeq, limit) => this.readRange(fromSeq, limit),
      deliver: (receipts) => announce(this.listeners, receipts),
      onError,
    });
  }

  /** The id of the receipt key this instance signs (and registers) with. */
  get keyId(): string {
    return this.signer.keyId;
  }

  witness<T>(work: (tx: LedgerTransaction) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the ledger store is closed'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.flushing) return;
    if (this.queue.length === 0) {
      this.onDrained?.();
      return;
    }
    this.flushing = true;
    setImmediate(() => {
      void this.flush().finally(() => {
        this.flushing = false;
        this.schedule();
      });
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    // A group of one piece runs without a savepoint: its failure rolls back the transaction.
    const alone = batch.length === 1;
    const outcomes: ({ ok: true; value: unknown } | { ok: false; err: unknown })[] = [];
    let client: pg.PoolClient | undefined;
    let tx: GroupTransaction;
    try {
      client = await checkout(this.writer);
      tx = new GroupTransaction(client, this.signer, this.clock, await beginGroup(client, !alone), this.keyRegistered, this.salts);
      // Each piece runs in the savepoint `piece`. One the piece rolled back to is the next one's
      // start as it stands; after a piece that held, one round trip releases it and opens the next.
      for (const [k, piece] of batch.entries()) {
        const outcome = await this.runPiece(client, tx, piece, alone);
        outcomes.push(outcome);
        if (outcome.ok && k < batch.length - 1) await client.query('RELEASE SAVEPOINT piece; SAVEPOINT piece');
      }
    } catch (err) {
      await client?.query('ROLLBACK').catch(() => undefined);
      client?.release(true);
      for (const piece of batch) piece.reject(PostgresStoreError.from('unavailable', 'the witnessed write was rolled back', err));
      return;
    }
    const lone = outcomes[0]!;
    if (alone && !lone.ok) {
      // Already rolled back (runPiece): nothing to commit.
      client.release();
      batch[0]!.reject(lone.err);
      return;
    }
    const unsent = connectionLost(client);
    let ended: string | null;
    try {
      ended = lastCommand(await client.query(commitStatement(tx.appended)));
    } catch (err) {
      client.release(true);
      // Without an answer from the server the transaction may or may not have committed; with
      // one (the NOTIFY or the COMMIT refused), or on a connection already lost, it did not.
      const state = (err as { code?: unknown }).code;
      const code = typeof state === 'string' || unsent ? 'unavailable' : 'commit_unknown';
      for (const piece of batch) piece.reject(PostgresStoreError.from(code, 'COMMIT of the witnessed write failed', err));
      return;
    }
    if (ended !== 'COMMIT') {
      // The server answers COMMIT with ROLLBACK when the transaction had failed: a piece went on
      // past a refused statement (caught it and returned). Nothing was written.
      client.release(true);
      const refused = new PostgresStoreError('unavailable', `the witnessed write was rolled back: COMMIT ended it with ${ended}`);
      for (const piece of batch) piece.reject(refused);
      return;
    }
    client.release();
    this.keyRegistered = tx.registered;
    batch.forEach((piece, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) piece.resolve(outcome.value);
      else piece.reject(outcome.err);
    });
    if (tx.appended.length === 0) return;
    if (this.feed !== null) this.feed.committed(tx.appended);
    else announce(this.listeners, tx.appended);
  }

  /**
   * One piece in the open savepoint (or, `alone`, in the transaction itself); its failure rolls
   * back its part only (a lost connection is thrown).
   */
  private async runPiece(client: pg.PoolClient, tx: GroupTransaction, piece: Piece, alone: boolean) {
    const mark = tx.mark();
    let open = true;
    try {
      const value = await piece.work(tx.view(() => open));
      open = false;
      const failed = await tx.settled();
      if (failed) throw failed.err;
      return { ok: true as const, value };
    } catch (err) {
      open = false;
      await tx.settled();
      await client.query(alone ? 'ROLLBACK' : 'ROLLBACK TO SAVEPOINT piece');
      tx.rollbackTo(mark);
      return { ok: false as const, err };
    }
  }

  head(): Promise<LedgerHead> {
    return readHead(this.pool);
  }

  async readRange(fromSeq: number, limit: number): Promise<ReceiptDto[]> {
    const { rows } = await this.pool.query<PgReceiptRow>(
      `SELECT ${RECEIPT_WITH_BODIES} FROM receipts r WHERE r.seq >= $1 ORDER BY r.seq LIMIT $2`,
      [fromSeq, limit],
    );
    return rows.map(receiptFromPgRow);
  }

  search(query: ReceiptQuery): Promise<ReceiptPage> {
    return searchPostgres(this.pool, query);
  }

  count(query: ReceiptCountQuery): Promise<ReceiptCountDto> {
    return countPostgres(this.pool, query);
  }

  /**
   * Retention's purge with SQLite's inputs and result (OpenExecCore.purgeOlderThan): one witnessed
   * write under the ledger lock (pg-purge.ts). `walTruncated` is false and `freelistPages` 0:
   * PostgreSQL cuts no WAL and keeps no freelist of SQLite's kind.
   */
  async purgeOlderThan(cutoff: number, trigger: 'retention' | 'operator'): Promise<PurgeDto> {
    const done = await this.witness((tx) => purgeWithin(tx, cutoff, trigger));
    return { ...done, walTruncated: false, freelistPages: 0 };
  }

  /** This instance's receipts as they commit; with `follow`, every instance's, in seq order, each once. */
  subscribe(listener: (receipts: readonly ReceiptDto[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Waits for the writes already submitted, then closes the pools; once, however often it is called. */
  close(): Promise<void> {
    this.closing ??= this.closeOnce();
    return this.closing;
  }

  private async closeOnce(): Promise<void> {
    this.closed = true;
    if (this.flushing || this.queue.length > 0) await new Promise<void>((resolve) => (this.onDrained = resolve));
    this.feed?.close();
    await this.follower?.close();
    await Promise.all([this.pool.end(), this.writer.end()]);
  }
}
