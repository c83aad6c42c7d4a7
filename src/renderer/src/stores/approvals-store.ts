import { create } from 'zustand';
import type { ApprovalDto } from '../../../shared/console-dto';
import { callConsole } from '../bridge';
import type { LoadStatus } from './pending-store';
import { loadView, reloadSoon } from './view-load';

export const APPROVALS_LIMIT = 500;

interface ApprovalsState {
  status: LoadStatus;
  error: string | null;
  items: ApprovalDto[];
  load: () => Promise<void>;
  /** Something changed (an approval was used or verified): reload if we have loaded before. */
  invalidate: () => void;
}

export const useApprovalsStore = create<ApprovalsState>((set, get) => ({
  status: 'idle',
  error: null,
  items: [],
  load: () =>
    loadView(
      set,
      get().status === 'ready',
      () => callConsole('listApprovals', { limit: APPROVALS_LIMIT }),
      (items) => set({ status: 'ready', items }),
    ),
  invalidate: reloadSoon(get, 300),
}));
