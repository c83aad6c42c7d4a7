import { create } from 'zustand';
import type { HealthDto } from '../../../shared/console-dto';
import { callConsole } from '../bridge';
import { loadView, reloadSoon, type Loadable } from './view-load';

interface StatusState extends Loadable {
  health: HealthDto | null;
  loadedAt: number | null;
  load: () => Promise<void>;
  /** Counts changed: refresh soon if we have loaded before. */
  invalidate: () => void;
}

export const useStatusStore = create<StatusState>((set, get) => ({
  status: 'idle',
  error: null,
  health: null,
  loadedAt: null,
  load: () =>
    loadView(
      set,
      get().health !== null,
      () => callConsole('health'),
      (health) => set({ status: 'ready', health, loadedAt: Date.now() }),
    ),
  invalidate: reloadSoon(get, 500),
}));
