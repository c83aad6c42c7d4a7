import type { ReceiptDto } from '../../../../shared/console-dto.ts';
import { Backoff } from '../../backoff.ts';

/** How many receipts one catch-up read fetches at most; a larger gap is read page by page. */
const PAGE = 500;

/**
 * A read that stalled (failed, or found receipts not visible yet) is tried again after this
 * long, doubling up to RETRY_MAX_MS: waiting for the next commit or notice instead would leave a
 * quiet ledger's followers behind (a decision another console never hears of) indefinitely.
 */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;

export interface ReceiptFeedOptions {
  /** The ledger's head when the feed starts: receipts up to it are not delivered. */
  startHead: number;
  readRange: (fromSeq: number, limit: number) => Promise<ReceiptDto[]>;
  deliver: (receipts: readonly ReceiptDto[]) => void;
  /** A catch-up read failed; it is tried again from the same seq (RETRY_FIRST_MS, doubling) or at the next commit or notice. */
  onError?: (err: unknown) => void;
}

/**
 * Every receipt of a ledger several instances append to, delivered in seq order and each once,
 * from two sources: this instance's own commits (delivered as they are when they follow on
 * from the last one delivered, with no read) and the heads other instances announce (read from
 * the database, since a notice carries no receipts). A gap, however it arose (another
 * instance's group committed between two of ours, a notice lost while reconnecting), is read
 * before anything after it is delivered.
 */
export class ReceiptFeed {
  /** The next seq to deliver. */
  private next: number;
  /** The highest seq known to be committed. */
  private known: number;
  private reading: Promise<void> | null = null;
  private closed = false;
  private readonly retry = new Backoff(RETRY_FIRST_MS, RETRY_MAX_MS);

  constructor(private readonly options: ReceiptFeedOptions) {
    this.next = options.startHead + 1;
    this.known = options.startHead;
  }

  /** This instance committed `receipts` (consecutive seqs, in order). */
  committed(receipts: readonly ReceiptDto[]): void {
    const last = receipts[receipts.length - 1];
    if (this.closed || last === undefined) return;
    this.known = Math.max(this.known, last.seq);
    if (this.reading === null && receipts[0]!.seq === this.next) {
      this.next = last.seq + 1;
      this.options.deliver(receipts);
      return;
    }
    this.catchUp();
  }

  /** Some instance committed receipts up to `head`. */
  changed(head: number): void {
    if (this.closed || head < this.next) return;
    this.known = Math.max(this.known, head);
    this.catchUp();
  }

  close(): void {
    this.closed = true;
    this.retry.cancel();
  }

  /** Reads and delivers up to the highest seq known, one read at a time. */
  private catchUp(): void {
    if (this.reading !== null) return;
    this.retry.cancel();
    this.reading = this.read().then((stalled) => {
      this.reading = null;
      if (this.closed) return;
      // A read that failed or found nothing new is tried again later, never in a spin.
      if (stalled) {
        if (this.known >= this.next) this.retry.schedule(() => this.catchUp());
        return;
      }
      this.retry.succeeded();
      // Something became known while the last page was read.
      if (this.known >= this.next) this.catchUp();
    });
  }

  /** True when it stopped short of what is known: a failed read, or receipts not visible yet. */
  private async read(): Promise<boolean> {
    try {
      while (!this.closed && this.known >= this.next) {
        const receipts = await this.options.readRange(this.next, Math.min(PAGE, this.known - this.next + 1));
        // Contiguous from `next`: seq is gapless, and a receipt is visible once it has committed.
        const usable = receipts.filter((r, i) => r.seq === this.next + i);
        if (this.closed) return false;
        if (usable.length === 0) return true;
        this.next = usable[usable.length - 1]!.seq + 1;
        this.options.deliver(usable);
      }
      return false;
    } catch (err) {
      this.options.onError?.(err);
      return true;
    }
  }
}
