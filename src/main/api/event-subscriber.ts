import type { ServerResponse } from 'node:http';

/** How far (bytes of SSE frames) a subscriber may fall behind its socket before it is dropped. */
export const SUBSCRIBER_BACKLOG_BYTES = 1024 * 1024;
/** A dropped subscriber that does not read its last event within this time is cut. */
const DROP_GRACE_MS = 10_000;

export const RESYNC_DETAIL =
  'This subscriber fell more than 1 MiB of events behind and was dropped: events after this point are not sent. ' +
  'Reload the current state, then subscribe again.';

const RESYNC_FRAME = Buffer.from(`event: resync\ndata: ${JSON.stringify({ type: 'resync', detail: RESYNC_DETAIL })}\n\n`);

/**
 * One SSE response with a bounded backlog. Frames are shared Buffers (serialised once for
 * every subscriber); while the socket has not drained, this one only keeps references to
 * them, and past the byte limit it is sent a last `resync` event and ended, so a subscriber
 * that never reads costs at most the socket's own buffer plus its share of the limit.
 */
export class SseSubscriber {
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  /** write() said the socket is full: wait for 'drain' before writing again. */
  private waiting = false;
  private done = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly limitBytes: number = SUBSCRIBER_BACKLOG_BYTES,
  ) {
    res.on('drain', () => this.flush());
    // A stream that fails just ends ('close' follows); it must never take the server down.
    res.on('error', () => this.end());
  }

  send(frame: Buffer): void {
    if (this.done) return;
    if (!this.waiting) {
      this.waiting = !this.res.write(frame);
      return;
    }
    // Checked before taking the frame, so one frame larger than the limit (a 1 MiB payload)
    // does not drop a reader that is keeping up.
    if (this.backlogBytes >= this.limitBytes) return this.drop();
    this.backlog.push(frame);
    this.backlogBytes += frame.length;
  }

  /** Ends the stream now (server stopping, or the client went away). */
  end(): void {
    if (this.done) return;
    this.done = true;
    this.backlog = [];
    if (!this.res.writableEnded) this.res.end();
  }

  private flush(): void {
    this.waiting = false;
    while (!this.done && !this.waiting && this.backlog.length > 0) {
      const frame = this.backlog.shift()!;
      this.backlogBytes -= frame.length;
      this.waiting = !this.res.write(frame);
    }
  }

  private drop(): void {
    this.done = true;
    this.backlog = [];
    this.backlogBytes = 0;
    // The connection closes once the last event has been handed over (a keep-alive would
    // otherwise leave it open); a client that never reads would hold it forever, so it is cut.
    const socket = this.res.socket;
    this.res.end(RESYNC_FRAME, () => socket?.end());
    const cut = setTimeout(() => this.res.destroy(), DROP_GRACE_MS);
    cut.unref();
    this.res.once('close', () => clearTimeout(cut));
  }
}
