import { create } from 'zustand';
import type { ApprovalDto } from '../../../shared/console-dto';
import { callConsole } from '../bridge';
import { loadView, reloadSoon, type Loadable } from './view-load';

export const APPROVALS_LIMIT = 500;

interface ApprovalsState extends Loadable {
  /** Null until the first load has answered. */
  items: ApprovalDto[] | null;
  load: () => Promise<void>;
  /** Something changed (an approval was used or verified): reload if we have loaded before. */
  invalidate: () => void;
}

export const useApprovalsStore = create<ApprovalsState>((set, get) => ({
  status: 'idle',
  error: null,
  items: null,
  load: () =>
    loadView(
      set,
      get().items !== null,
      () => callConsole('listApprovals', { limit: APPROVALS_LIMIT }),
      (items) => set({ status: 'ready', items }),
    ),
  invalidate: reloadSoon(get, 300),
}));
