/**
 * Long-polls waiting on proposals: each resolves the moment its proposal is decided, or when
 * its own deadline passes, whichever is first. Nothing polls.
 */
export class ProposalWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves on `wake(id)`, on `wakeAll()`, or after `ms`. */
  until(id: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const set = this.waiting.get(id) ?? new Set();
      this.waiting.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.waiting.delete(id);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      set.add(done);
    });
  }

  wake(id: string): void {
    for (const done of [...(this.waiting.get(id) ?? [])]) done();
  }

  wakeAll(): void {
    for (const id of [...this.waiting.keys()]) this.wake(id);
  }
}
