import type { Ledger } from '../ledger/ledger.ts';
import type { ExecutionStore } from './execution-store.ts';
import { INTERRUPTED, interruptedDraft, interruptedEnding } from './outcomes.ts';

/**
 * The SQLite core's start: every execution left `started` (its handler was running when the
 * process stopped) is closed as interrupted, with the receipt and ending the engine writes
 * (Engine.closeInterrupted), before the core's constructor returns, so whatever starts on it
 * (the proposal service settles claimed proposals at once) finds them closed. It runs
 * synchronously, as the constructor must, which the asynchronous engine cannot.
 */
export function closeInterruptedAtStart(ledger: Ledger, store: ExecutionStore): number {
  return ledger.witness(() => {
    const rows = store.listStarted();
    for (const row of rows) store.end(row.id, interruptedEnding(INTERRUPTED, ledger.append(interruptedDraft(row, INTERRUPTED)).seq));
    return rows.length;
  });
}
