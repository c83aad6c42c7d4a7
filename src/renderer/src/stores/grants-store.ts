import { create } from 'zustand';
import type { GrantDto } from '../../../shared/grant-dto';
import { callConsole, errorText } from '../bridge';
import { loadView, reloadSoon, type Loadable } from './view-load';

interface GrantsState extends Loadable {
  /** Null until the first load has answered. */
  items: GrantDto[] | null;
  /** Also ended grants (the latest ones), not only live ones. */
  showEnded: boolean;
  /** The grant being revoked, and what went wrong with the last revocation. */
  revoking: string | null;
  revokeError: string | null;
  load: () => Promise<void>;
  setShowEnded: (on: boolean) => void;
  revoke: (id: string) => Promise<void>;
  /** A grant changed (issued, used, ended): reload if we have loaded before. */
  invalidate: () => void;
}

export const useGrantsStore = create<GrantsState>((set, get) => ({
  status: 'idle',
  error: null,
  items: null,
  showEnded: false,
  revoking: null,
  revokeError: null,
  load: () =>
    loadView(
      set,
      get().items !== null,
      () => callConsole('listGrants', get().showEnded ? { all: true } : {}),
      (items) => set({ status: 'ready', items }),
    ),
  setShowEnded: (on) => {
    set({ showEnded: on });
    void get().load();
  },
  revoke: async (id) => {
    if (get().revoking) return;
    set({ revoking: id, revokeError: null });
    const result = await callConsole('revokeGrant', { id, reason: 'revoked from the console' });
    set({ revoking: null, revokeError: result.ok ? null : errorText(result.error) });
    await get().load();
  },
  invalidate: reloadSoon(get, 300),
}));
