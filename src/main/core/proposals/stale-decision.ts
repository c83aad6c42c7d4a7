import type { LedgerStore, LedgerTransaction } from '../store/ledger-store.ts';

/** Thrown inside a decision's witnessed write when someone else decided first: it rolls back. */
export class StaleDecision extends Error {}

/** One witnessed write; a decision someone else made first leaves no trace (undefined). */
export async function witnessDecision<T>(ledgerStore: LedgerStore, work: (tx: LedgerTransaction) => Promise<T>): Promise<T | undefined> {
  try {
    return await ledgerStore.witness(work);
  } catch (err) {
    if (err instanceof StaleDecision) return undefined;
    throw err;
  }
}
