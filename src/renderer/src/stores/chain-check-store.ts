import { create } from 'zustand';
import type { ChainRangeDto } from '../../../shared/console-dto';
import type { ConsoleResult } from '../../../shared/console-result';
import { callConsole, errorText } from '../bridge';

/** Receipts per verifyChainRange call: small enough that progress moves and Cancel stops soon. */
export const CHAIN_CHUNK = 2000;

export type ChainOutcome =
  | { kind: 'valid'; checked: number }
  | { kind: 'broken'; checked: number; firstBadSeq: number | null; problem: string | null }
  | { kind: 'cancelled'; checked: number; lastSeq: number }
  | { kind: 'failed'; checked: number; message: string };

interface ChainCheckState {
  running: boolean;
  /** Receipts found to hold so far, and the newest seq when the last chunk ran. */
  checked: number;
  lastSeq: number;
  outcome: ChainOutcome | null;
  start: () => Promise<void>;
  cancel: () => void;
}

/** Tells a run that has since been cancelled or replaced to stop. */
let run = 0;

/**
 * The whole-ledger check, done by the core in chunks the window asks for one after the other:
 * progress between chunks, and Cancel simply asks for no more.
 */
export const useChainCheckStore = create<ChainCheckState>((set, get) => ({
  running: false,
  checked: 0,
  lastSeq: 0,
  outcome: null,
  start: async () => {
    const mine = ++run;
    set({ running: true, checked: 0, lastSeq: 0, outcome: null });
    let from: number | null = 1;
    let checked = 0;
    while (from !== null) {
      const result: ConsoleResult<ChainRangeDto> = await callConsole('verifyChainRange', { fromSeq: from, limit: CHAIN_CHUNK });
      if (mine !== run) return;
      if (!result.ok) {
        set({ running: false, outcome: { kind: 'failed', checked, message: errorText(result.error) } });
        return;
      }
      const chunk: ChainRangeDto = result.value;
      checked += chunk.checked;
      if (!chunk.valid) {
        set({ running: false, checked, outcome: { kind: 'broken', checked, firstBadSeq: chunk.firstBadSeq, problem: chunk.problem } });
        return;
      }
      set({ checked, lastSeq: Math.max(chunk.lastSeq, checked) });
      from = chunk.nextSeq;
    }
    set({ running: false, outcome: { kind: 'valid', checked } });
  },
  cancel: () => {
    if (!get().running) return;
    run++;
    set({ running: false, outcome: { kind: 'cancelled', checked: get().checked, lastSeq: get().lastSeq } });
  },
}));
