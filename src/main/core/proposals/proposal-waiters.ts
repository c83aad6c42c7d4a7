/** A waiter listening from the moment it was armed: a wake before `wait` is called is not lost. */
export interface ArmedWaiter {
  /** Resolves on a wake (at once if one came since arming), or after `ms`. */
  wait(ms: number): Promise<void>;
  /** Stops listening; a `wait` in progress resolves. */
  cancel(): void;
}

/**
 * Long-polls waiting on proposals: each resolves the moment its proposal is decided, or when
 * its own deadline passes, whichever is first. Nothing polls. A waiter is armed before the
 * proposal is read, so a decision committed between the read and the wait still wakes it.
 */
export class ProposalWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  arm(id: string): ArmedWaiter {
    const set = this.waiting.get(id) ?? new Set();
    this.waiting.set(id, set);
    let woken = false;
    let resolveWait: (() => void) | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = () => {
      woken = true;
      clearTimeout(timer);
      set.delete(done);
      if (set.size === 0 && this.waiting.get(id) === set) this.waiting.delete(id);
      resolveWait?.();
    };
    set.add(done);
    return {
      wait: (ms) =>
        new Promise<void>((resolve) => {
          if (woken) return resolve();
          resolveWait = resolve;
          timer = setTimeout(done, Math.max(0, ms));
        }),
      cancel: done,
    };
  }

  wake(id: string): void {
    for (const done of [...(this.waiting.get(id) ?? [])]) done();
  }

  wakeAll(): void {
    for (const id of [...this.waiting.keys()]) this.wake(id);
  }
}
