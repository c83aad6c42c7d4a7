/**
 * better-sqlite3 runs every statement on the event loop's thread, and the core shares one
 * connection, so a SQLite transaction must begin and end within one event-loop turn: if it
 * stayed open while the loop ran a timer or an I/O callback, that callback's reads would see
 * uncommitted rows and its writes would join (and roll back with) someone else's transaction.
 * A witnessed piece on SQLite may therefore await only promises that settle through the
 * microtask queue (its transaction's operations, the SQLite record stores), never a timer,
 * I/O, `process.nextTick` or a thread.
 */

/** A witnessed piece awaited something outside its turn; its savepoint was rolled back. */
export class WitnessSuspended extends Error {
  readonly code = 'witness_suspended';

  constructor() {
    super(
      'A witnessed write on SQLite waited for something outside its event-loop turn (a timer, I/O): ' +
        'it was rolled back, since the connection cannot stay in a transaction while other work runs',
    );
    this.name = 'WitnessSuspended';
  }
}

/**
 * How many rounds of the microtask queue a piece may go without calling an operation of its
 * transaction. Each round puts the check behind every job queued so far, so a piece that is
 * making progress through promises advances at least one job per round: a thousand rounds
 * is far more than a piece spends between two statements, and about a millisecond for one
 * that has stalled.
 */
export const IDLE_ROUNDS = 1000;

export type TurnOutcome<T> = { settled: true; ok: true; value: T } | { settled: true; ok: false; err: unknown } | { settled: false };

/**
 * Waits for `work` without ever yielding to the event loop: `{ settled: false }` once it has gone
 * IDLE_ROUNDS rounds of the microtask queue with `progress()` unchanged, which can only mean it
 * waits for something outside this turn (a stall is decided by counting jobs, not by time, so
 * it is the same on a busy machine as on a quiet one).
 */
export async function settleWithinTurn<T>(work: Promise<T>, progress: () => number): Promise<TurnOutcome<T>> {
  let outcome: TurnOutcome<T> = { settled: false };
  work.then(
    (value) => (outcome = { settled: true, ok: true, value }),
    (err: unknown) => (outcome = { settled: true, ok: false, err }),
  );
  let seen = progress();
  let idle = 0;
  while (!outcome.settled) {
    await null;
    const now = progress();
    if (now !== seen) {
      seen = now;
      idle = 0;
    } else if (++idle > IDLE_ROUNDS) {
      break;
    }
  }
  return outcome;
}
