/**
 * A retry after a pause that doubles while attempts keep failing, from `firstMs` up to `maxMs`,
 * and starts over after a success. Its timer never keeps a process alive that is otherwise done.
 */
export class Backoff {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private delay: number;

  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
  ) {
    this.delay = firstMs;
  }

  /** Whether a retry is waiting for its pause to end. */
  get pending(): boolean {
    return this.timer !== null;
  }

  /** Runs `retry` after the current pause, unless one is already waiting; the next pause doubles. */
  schedule(retry: () => void): void {
    if (this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      retry();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, this.maxMs);
  }

  /** An attempt went through: the next failure waits the first pause again. */
  succeeded(): void {
    this.delay = this.firstMs;
  }

  cancel(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
