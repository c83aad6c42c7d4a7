import { create } from 'zustand';
import type { AllowListDto } from '../../../shared/console-dto';
import { callConsole, errorText } from '../bridge';
import type { LoadStatus } from './view-load';

interface AllowListState {
  status: LoadStatus;
  error: string | null;
  list: AllowListDto | null;
  /** Actions whose change is in flight. */
  busy: ReadonlySet<string>;
  /** Last refusal or failure of a change, per action. */
  changeErrors: Readonly<Record<string, string>>;
  load: () => Promise<void>;
  receive: (list: AllowListDto) => void;
  setAllowed: (action: string, allowed: boolean) => Promise<void>;
}

export const useAllowListStore = create<AllowListState>((set, get) => ({
  status: 'idle',
  error: null,
  list: null,
  busy: new Set(),
  changeErrors: {},
  load: async () => {
    set({ status: get().list ? 'ready' : 'loading', error: null });
    const result = await callConsole('getAllowList');
    if (!result.ok) set({ status: 'error', error: errorText(result.error) });
    else set({ status: 'ready', list: result.value });
  },
  receive: (list) => set({ list, status: 'ready', error: null }),
  setAllowed: async (action, allowed) => {
    const busy = new Set(get().busy).add(action);
    const { [action]: _dropped, ...changeErrors } = get().changeErrors;
    set({ busy, changeErrors });
    const result = await callConsole('setAllowed', { action, allowed });
    const after = new Set(get().busy);
    after.delete(action);
    if (result.ok) set({ busy: after, list: result.value });
    else set({ busy: after, changeErrors: { ...get().changeErrors, [action]: errorText(result.error) } });
  },
}));
