import { create } from 'zustand';
import type { ChainCheckDto, HealthDto } from '../../../shared/console-dto';
import { callConsole, errorText } from '../bridge';
import type { LoadStatus } from './pending-store';

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

let reloadTimer: ReturnType<typeof setTimeout> | null = null;

export const useStatusStore = create<StatusState>((set, get) => ({
  status: 'idle',
  error: null,
  health: null,
  loadedAt: null,
  chain: { running: false, result: null, error: null },
  load: async () => {
    set({ status: get().health ? 'ready' : 'loading', error: null });
    const result = await callConsole('health');
    if (!result.ok) set({ status: 'error', error: errorText(result.error) });
    else set({ status: 'ready', health: result.value, loadedAt: Date.now() });
  },
  invalidate: () => {
    if (get().status === 'idle') return;
    if (reloadTimer !== null) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      void get().load();
    }, 500);
  },
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
