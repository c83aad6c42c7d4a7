import { createInterface, type Interface } from 'node:readline';

/** The presenter pressed Ctrl-C (or stdin closed) while the demo waited for them. */
export class KeyboardClosed extends Error {}

const ABORTED = Symbol('aborted');

/**
 * The presenter's keys. On a terminal, single keys in raw mode (no Enter needed); otherwise one
 * line per answer, its first character, so the demo can also be driven through a pipe.
 */
export class Keyboard {
  private readonly queue: string[] = [];
  private waiting: ((key: string | null) => void) | null = null;
  private ended = false;
  private readonly lines: Interface | null = null;
  private readonly onData = (chunk: Buffer) => {
    for (const ch of chunk.toString('utf8')) this.push(ch === '\r' ? '\n' : ch);
  };

  /** `onInterrupt`: Ctrl-C in raw mode, where the terminal no longer sends SIGINT itself. */
  constructor(
    private readonly stdin: NodeJS.ReadStream,
    private readonly onInterrupt: () => void,
  ) {
    if (stdin.isTTY) {
      stdin.setRawMode(true);
      stdin.on('data', this.onData);
      stdin.resume();
    } else {
      this.lines = createInterface({ input: stdin });
      this.lines.on('line', (line) => this.push(line.trim()[0]?.toLowerCase() ?? '\n'));
      this.lines.on('close', () => this.end());
    }
  }

  private push(key: string): void {
    if (key === '\x03') return this.onInterrupt();
    if (key === '\x04') return this.end();
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = null;
      waiting(key);
    } else this.queue.push(key);
  }

  private end(): void {
    this.ended = true;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.(null);
  }

  /** The next key; null once stdin has ended; ABORTED when `signal` aborts first. */
  private next(signal?: AbortSignal): Promise<string | null | typeof ABORTED> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.ended) return Promise.resolve(null);
    if (signal?.aborted) return Promise.resolve(ABORTED);
    return new Promise((resolve) => {
      const onAbort = () => {
        // The wait is withdrawn: a key pressed from now on is kept for the next question.
        if (this.waiting === deliver) this.waiting = null;
        resolve(ABORTED);
      };
      const deliver = (key: string | null) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(key);
      };
      this.waiting = deliver;
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** The next key among `allowed` (others are ignored), or null once `signal` aborts. */
  async key(allowed: readonly string[], signal?: AbortSignal): Promise<string | null> {
    for (;;) {
      const key = await this.next(signal);
      if (key === ABORTED) return null;
      if (key === null)
        throw new KeyboardClosed('the presenter stopped the demo (Ctrl-C, or stdin closed; use --auto for a hands-off run)');
      const k = key.toLowerCase();
      if (allowed.includes(k)) return k;
    }
  }

  close(): void {
    if (this.stdin.isTTY) {
      this.stdin.off('data', this.onData);
      this.stdin.setRawMode(false);
      this.stdin.pause();
    } else this.lines?.close();
  }
}
