import { create } from 'zustand';
import type { ToolPinStateDto } from '../../../shared/console-dto';
import { callConsole, errorText } from '../bridge';
import { loadView, reloadSoon, type Loadable } from './view-load';

interface ToolPinsState extends Loadable {
  /** Null until the first load has answered. */
  items: ToolPinStateDto[] | null;
  /** The tool whose changed definition is being accepted, and what went wrong with the last one. */
  accepting: string | null;
  acceptError: string | null;
  /** What the last acceptance did, in plain words. */
  accepted: string | null;
  load: () => Promise<void>;
  /** Accepts exactly the changed definition the operator was shown (its hash). */
  accept: (action: string, hash: string) => Promise<void>;
  /** A pin changed (a pin or acceptance receipt): reload if we have loaded before. */
  invalidate: () => void;
}

export const useToolPinsStore = create<ToolPinsState>((set, get) => ({
  status: 'idle',
  error: null,
  items: null,
  accepting: null,
  acceptError: null,
  accepted: null,
  load: () =>
    loadView(
      set,
      get().items !== null,
      () => callConsole('listToolPins'),
      (items) => set({ status: 'ready', items }),
    ),
  accept: async (action, hash) => {
    if (get().accepting) return;
    set({ accepting: action, acceptError: null, accepted: null });
    const result = await callConsole('acceptToolDefinition', { action, hash });
    set({
      accepting: null,
      acceptError: result.ok ? null : errorText(result.error),
      accepted: result.ok ? `Accepted the new definition of ${action}; its calls are no longer refused.` : null,
    });
    await get().load();
  },
  invalidate: reloadSoon(get, 300),
}));
