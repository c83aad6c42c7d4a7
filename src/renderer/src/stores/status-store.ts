import { create } from 'zustand';
import type { ChainCheckDto, HealthDto } from '../../../shared/console-dto';
import { callConsole, errorText } from '../bridge';
import type { LoadStatus } from './pending-store';
import { loadView, reloadSoon } from './view-load';

interface StatusState {
  status: LoadStatus;
  error: string | null;
  health: HealthDto | null;
  loadedAt: number | null;
  chain: { running: boolean; result: ChainCheckDto | null; error: string | null };
  load: () => Promise<void>;
  /** Counts changed: refresh soon if we have loaded before. */
  invalidate: () => void;
  verifyChain: () => Promise<void>;
}

export const useStatusStore = create<StatusState>((set, get) => ({
  status: 'idle',
  error: null,
  health: null,
  loadedAt: null,
  chain: { running: false, result: null, error: null },
  load: () =>
    loadView(set, get().health !== null, () => callConsole('health'), (health) => set({ status: 'ready', health, loadedAt: Date.now() })),
  invalidate: reloadSoon(get, 500),
  verifyChain: async () => {
    set({ chain: { running: true, result: null, error: null } });
    const result = await callConsole('verifyChain');
    set({
      chain: result.ok
        ? { running: false, result: result.value, error: null }
        : { running: false, result: null, error: errorText(result.error) },
    });
  },
}));
