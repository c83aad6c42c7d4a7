import { create } from 'zustand';
import type { ApprovalDto } from '../../../shared/console-dto';
import { callConsole, errorText } from '../bridge';
import type { LoadStatus } from './pending-store';

export const APPROVALS_LIMIT = 500;

interface ApprovalsState {
  status: LoadStatus;
  error: string | null;
  items: ApprovalDto[];
  load: () => Promise<void>;
  /** Something changed (an approval was used or verified): reload if we have loaded before. */
  invalidate: () => void;
}

let reloadTimer: ReturnType<typeof setTimeout> | null = null;

export const useApprovalsStore = create<ApprovalsState>((set, get) => ({
  status: 'idle',
  error: null,
  items: [],
  load: async () => {
    set({ status: get().status === 'ready' ? 'ready' : 'loading', error: null });
    const result = await callConsole('listApprovals', { limit: APPROVALS_LIMIT });
    if (!result.ok) set({ status: 'error', error: errorText(result.error) });
    else set({ status: 'ready', items: result.value });
  },
  invalidate: () => {
    if (get().status === 'idle') return;
    if (reloadTimer !== null) clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => {
      reloadTimer = null;
      void get().load();
    }, 300);
  },
}));
