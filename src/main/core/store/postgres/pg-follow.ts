import pg from 'pg';
import type { LedgerChange } from '../ledger-store.ts';
import { LEDGER_CHANNEL } from './pg-locks.ts';
import { announce, parseChangeNotice } from './pg-notice.ts';
import { describeServer, PostgresStoreError } from './pg-pool.ts';
import { followerApplicationName } from './pg-instance-presence.ts';

export { FOLLOWER_APPLICATION_NAME } from './pg-instance-presence.ts';

export interface FollowerOptions {
  url: string;
  /** The instance's receipt key id, named in the connection's application_name (pg-instance-presence.ts). */
  keyId?: string;
  /** Another process (or this one) committed receipts up to `head`. */
  onChange: (change: LedgerChange) => void;
  /** The connection was lost; the follower is reconnecting. */
  onError?: (err: PostgresStoreError) => void;
  /** First delay before reconnecting; doubled up to maxRetryMs while the server stays away. */
  retryMs?: number;
  maxRetryMs?: number;
}

/**
 * Follows the ledger's LISTEN/NOTIFY channel on a connection of its own, reconnecting when it
 * is lost. Notices sent while it was away are gone, so after every reconnect it reads the head
 * and reports any receipts it missed as one change whose proposals are unknown.
 */
export class LedgerFollower {
  private client: pg.Client | null = null;
  private lastHead = 0;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private delay: number;

  private constructor(private readonly options: FollowerOptions) {
    this.delay = options.retryMs ?? 200;
  }

  /** Listening once this resolves; the first connection must succeed. */
  static async start(options: FollowerOptions): Promise<LedgerFollower> {
    const follower = new LedgerFollower(options);
    await follower.connect();
    return follower;
  }

  /** The newest head this follower knows of. */
  get head(): number {
    return this.lastHead;
  }

  private async connect(): Promise<void> {
    const name = followerApplicationName(this.options.keyId);
    const client = new pg.Client({ connectionString: this.options.url, application_name: name });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the server closed the connection')));
    client.on('notification', (msg) => {
      if (msg.channel !== LEDGER_CHANNEL) return;
      const change = parseChangeNotice(msg.payload);
      if (change !== null) this.report(change);
    });
    try {
      await client.connect();
      // Set again: an application_name in the URL would win over the one given above.
      await client.query("SELECT set_config('application_name', $1, false)", [name]);
      await client.query(`LISTEN ${LEDGER_CHANNEL}`);
      const { rows } = await client.query<{ head: string }>('SELECT coalesce(max(seq), 0) AS head FROM receipts');
      const head = Number(rows[0]?.head ?? 0);
      if (this.closed) {
        await client.end();
        return;
      }
      const first = this.client === null && this.lastHead === 0 && this.timer === null;
      this.client = client;
      this.delay = this.options.retryMs ?? 200;
      if (first) this.lastHead = head;
      else if (head > this.lastHead) this.report({ head, proposalIds: null });
    } catch (err) {
      client.removeAllListeners('end');
      await client.end().catch(() => undefined);
      throw PostgresStoreError.from('unavailable', `cannot follow the ledger at ${describeServer(this.options.url)}`, err);
    }
  }

  private report(change: LedgerChange): void {
    this.lastHead = Math.max(this.lastHead, change.head);
    announce([this.options.onChange], change);
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.closed || client !== this.client) return;
    this.client = null;
    client.removeAllListeners('end');
    void client.end().catch(() => undefined);
    this.options.onError?.(
      PostgresStoreError.from('unavailable', `lost the ledger's notifications from ${describeServer(this.options.url)}`, err),
    );
    this.retry();
  }

  private retry(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      this.connect().then(
        () => (this.timer = null),
        () => {
          this.delay = Math.min(this.delay * 2, this.options.maxRetryMs ?? 5000);
          this.retry();
        },
      );
    }, this.delay);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }
}
