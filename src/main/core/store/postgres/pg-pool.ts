import pg from 'pg';
import { describeServer } from './pg-server-name.ts';

export { describeServer };

/** PostgreSQL's SQLSTATE and message, never the connection's configuration. */
function serverSays(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && code !== '' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

/**
 * A failure to reach or use the PostgreSQL store. The message names the server as
 * describeServer() does; the driver's error is not kept as `cause`, so nothing that held the
 * connection string travels with it.
 */
export class PostgresStoreError extends Error {
  constructor(
    readonly code: 'unavailable' | 'schema' | 'commit_unknown',
    message: string,
    readonly sqlState: string | null = null,
  ) {
    super(message);
    this.name = 'PostgresStoreError';
  }

  static from(code: PostgresStoreError['code'], context: string, err: unknown): PostgresStoreError {
    const state = (err as { code?: unknown } | null)?.code;
    return new PostgresStoreError(code, `${context}: ${serverSays(err)}`, typeof state === 'string' ? state : null);
  }
}

export interface OpenPoolOptions {
  /** Connections kept; appends use one at a time, reads the rest. */
  max?: number;
  /** Reported for errors on idle connections (the server restarting, a network cut). */
  onIdleError?: (err: PostgresStoreError) => void;
  /**
   * The server ends a session that sits this long inside a transaction, so a process that hangs
   * while holding the ledger lock cannot stall the other instances for ever.
   */
  idleInTransactionMs?: number;
  /** Each connection sends a query without waiting for the answers before it (pg's pipeline mode). */
  pipeline?: boolean;
}

/** A pool for `url`, checked by one round trip, so a bad address or password fails here. */
export async function openPool(url: string, options: OpenPoolOptions = {}): Promise<pg.Pool> {
  const where = describeServer(url);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: 10_000,
    idle_in_transaction_session_timeout: options.idleInTransactionMs ?? 30_000,
    pipeline: options.pipeline ?? false,
  });
  // An idle connection's error would otherwise be an uncaught 'error' event.
  pool.on('error', (err) => options.onIdleError?.(PostgresStoreError.from('unavailable', `connection to ${where} lost`, err)));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw PostgresStoreError.from('unavailable', `cannot use PostgreSQL at ${where}`, err);
  }
  return pool;
}

/** Checked-out connections that have reported themselves broken. */
const lost = new WeakSet<pg.PoolClient>();

/**
 * A pooled connection for a transaction. The pool listens for errors only on idle connections;
 * one checked out here may see the server end its session (a restart, the idle-in-transaction
 * timeout) between queries, which would otherwise be an uncaught 'error' event. Its next query
 * fails with the reason instead, and connectionLost() says so.
 */
export async function checkout(pool: pg.Pool): Promise<pg.PoolClient> {
  const client = await pool.connect();
  const note = () => lost.add(client);
  client.on('error', note);
  const release = client.release.bind(client);
  client.release = (destroy?: Error | boolean) => {
    client.off('error', note);
    release(destroy);
  };
  return client;
}

/**
 * Whether a checked-out connection has reported itself broken: the driver then refuses every
 * query on it without sending it, so a COMMIT asked for after that never reached the server.
 */
export function connectionLost(client: pg.PoolClient): boolean {
  return lost.has(client);
}
