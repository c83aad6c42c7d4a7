import type pg from 'pg';
import type { Prepared } from './pg-prepared.ts';
import type { PgSession } from './pg-session.ts';

/**
 * A group transaction's queries on its connection, which pipelines (pg's `pipeline` mode: a
 * query goes out without waiting for the answers before it, and the answers come back in
 * order). A write whose answer nothing needs (a receipt: its seq, hash and signature are known
 * before it is written) is left behind: sent, not waited for, so it shares a round trip with
 * the next query. If one fails, the server refuses everything after it in the aborted
 * transaction; each of those answers is reported as that write's failure instead, and
 * settle() gives it to the piece, which then fails and rolls back with it.
 */
export class LeftBehind implements PgSession {
  private behind: Promise<void>[] = [];
  private failed: { err: unknown } | null = null;

  constructor(private readonly client: pg.PoolClient) {}

  /** Sends a write without waiting for its answer. */
  leave(statement: Prepared, values: unknown[]): void {
    this.behind.push(
      this.client.query({ ...statement, values }).then(
        () => undefined,
        (err: unknown) => {
          this.failed ??= { err };
        },
      ),
    );
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string | Prepared, values?: unknown[]): Promise<pg.QueryResult<R>> {
    let result: pg.QueryResult<R>;
    try {
      result = await this.client.query<R>(text, values);
    } catch (err) {
      throw this.failed?.err ?? err;
    }
    // Answered in order: a write sent before this query has been answered too.
    if (this.failed) throw this.failed.err;
    return result;
  }

  /** Waits for the writes left behind: the first one that failed, if any. */
  async settle(): Promise<{ err: unknown } | null> {
    await Promise.all(this.behind);
    this.behind = [];
    return this.failed;
  }

  /** After a settled piece rolled back: its failure went with it. */
  forget(): void {
    this.failed = null;
  }
}
