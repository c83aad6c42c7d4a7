import { Backoff } from '../backoff.ts';
import type { LedgerStore } from '../store/ledger-store.ts';
import { foreignNeed, type ProposalNeed } from './foreign-receipts.ts';
import type { ProposalRow } from './proposal-store.ts';

/** First wait before a failed read is tried again; doubled up to RETRY_MAX_MS while it fails. */
const RETRY_MS = 250;
const RETRY_MAX_MS = 5000;
/** How many of the latest publications are remembered (publishedHere). */
const RECENT = 256;
/** How many of the latest decisions published are remembered (finalPublished). */
const DECIDED = 1024;

export interface ProposalFollowerOptions {
  /** The proposal as stored now. */
  read(id: string): Promise<ProposalRow | undefined>;
  /** Tells this instance's listeners and waiters; a rejection is tried again like a failed read. */
  publish(row: ProposalRow): Promise<void>;
  /** A read or publication failed; it is tried again after a pause. */
  onError?(err: unknown): void;
}

/**
 * Proposals another instance on the same ledger changed. The store's `subscribe` hears every
 * instance's receipts in seq order, each once (PostgreSQL opened with `follow`; after a lost
 * notification connection it reads what it missed before anything newer), and a receipt signed
 * by another receipt key than this instance's was committed elsewhere (foreign-receipts.ts).
 * Each proposal such a receipt changed is read back as stored and published, as this instance
 * publishes its own changes. On SQLite every receipt is this instance's: nothing is read here.
 *
 * Reads run one at a time in the order their receipts came, and the receipts about a proposal
 * that arrive before its read starts are answered by that one read, so a later state is never
 * published before an earlier one and a burst costs one read.
 */
export class ProposalFollower {
  private readonly queued = new Map<string, ProposalNeed>();
  /** The proposal being read, and whether this instance published it itself meanwhile. */
  private reading: { id: string; superseded: boolean } | null = null;
  private draining = false;
  private closed = false;
  private readonly retry = new Backoff(RETRY_MS, RETRY_MAX_MS);
  private readonly unsubscribe: () => void;
  /** Publications so far, and the latest few proposals published (by that count), for publishedHere. */
  private published = 0;
  private readonly recent = new Map<string, number>();
  /** The latest decisions this follower published (finalPublished). */
  private readonly decided = new Set<string>();

  constructor(
    store: Pick<LedgerStore, 'subscribe' | 'keyId'>,
    private readonly options: ProposalFollowerOptions,
  ) {
    const own = store.keyId;
    this.unsubscribe = store.subscribe((receipts) => {
      for (const receipt of receipts) {
        const foreign = foreignNeed(receipt, own);
        if (foreign !== null) this.queue(foreign.id, foreign.need);
      }
      this.drain();
    });
  }

  /** Taken by this instance before it publishes a proposal it changed itself (see publishedHere). */
  ticket(): number {
    return this.published;
  }

  /**
   * This instance published a proposal it changed, as read after its own write, having taken
   * `ticket` before. Either publication may have been the older one: a read of it under way
   * here may have started before that write (it is not published), and one published here
   * since the ticket may have read less than this instance's own read. Either way the proposal
   * is read once more, so the last state published is the stored one. Never on SQLite.
   */
  publishedHere(id: string, ticket: number): void {
    if (this.closed) return;
    const stale = this.reading?.id === id;
    if (stale) this.reading!.superseded = true;
    if (stale || (this.recent.get(id) ?? -1) > ticket) {
      this.queue(id, 'always');
      this.drain();
    }
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.retry.cancel();
  }

  private queue(id: string, need: ProposalNeed): void {
    if (this.queued.get(id) !== 'always') this.queued.set(id, need);
  }

  private drain(): void {
    if (this.draining || this.closed || this.retry.pending || this.queued.size === 0) return;
    this.draining = true;
    void this.run().finally(() => {
      this.draining = false;
      this.drain();
    });
  }

  private async run(): Promise<void> {
    for (const [id, need] of this.queued) {
      if (this.closed) return;
      this.queued.delete(id);
      const reading = (this.reading = { id, superseded: false });
      try {
        const row = await this.options.read(id);
        if (reading.superseded) this.queue(id, 'always');
        else if (row !== undefined && !this.closed && (need === 'always' || row.status !== 'pending') && !this.finalPublished(row))
          await this.publish(row);
        this.retry.succeeded();
      } catch (err) {
        // Not lost: read again after a pause, before anything named since.
        const rest = [...this.queued];
        this.queued.clear();
        for (const [next, why] of [[id, need] as const, ...rest]) this.queue(next, why);
        this.failed(err);
        return;
      } finally {
        this.reading = null;
      }
    }
  }

  /**
   * Whether this follower has already published the decision `row` holds. A decision is final,
   * and a read that starts after it committed finds it even for an earlier receipt (the
   * proposal's `proposed` one, say): the receipt of the decision, heard next, must not publish
   * it a second time.
   */
  private finalPublished(row: ProposalRow): boolean {
    return row.status !== 'pending' && this.decided.has(row.id);
  }

  private async publish(row: ProposalRow): Promise<void> {
    await this.options.publish(row);
    this.recent.delete(row.id);
    this.recent.set(row.id, ++this.published);
    // Only a publication racing one of this instance's own matters, so a few suffice.
    if (this.recent.size > RECENT) this.recent.delete(this.recent.keys().next().value as string);
    if (row.status !== 'pending') {
      this.decided.add(row.id);
      // Its later receipts come within moments of it, so the latest few decisions suffice.
      if (this.decided.size > DECIDED) this.decided.delete(this.decided.values().next().value as string);
    }
  }

  private failed(err: unknown): void {
    if (this.closed) return;
    (this.options.onError ?? report)(err);
    this.retry.schedule(() => this.drain());
  }
}

function report(err: unknown): void {
  process.stderr.write(`openexec: reading a proposal another instance changed failed (tried again): ${String(err)}\n`);
}
