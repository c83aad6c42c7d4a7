import type { ConsoleEvent } from '../../../shared/console-dto.ts';

export type ConsoleEventListener = (event: ConsoleEvent) => void;

/**
 * Fan-out of committed changes to the window, SSE streams and long-polls. Only ever fed
 * after a transaction commits, so a listener never sees something that was rolled back.
 */
export class EventHub {
  private readonly listeners = new Set<ConsoleEventListener>();

  subscribe(listener: ConsoleEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(event: ConsoleEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (err) {
        // One broken subscriber (a closed stream) must not starve the others.
        process.stderr.write(`openexec: event listener failed: ${String(err)}\n`);
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
