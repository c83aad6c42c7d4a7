import { create } from 'zustand';
import type { ProposalDto } from '../../../shared/console-dto';
import { callConsole, errorText } from '../bridge';

import type { LoadStatus } from './view-load';

export type { LoadStatus };
export type DecisionKind = 'approve' | 'deny';

export interface Outcome {
  proposal: ProposalDto;
  at: number;
}

interface PendingState {
  status: LoadStatus;
  error: string | null;
  /** Pending proposals, oldest first. */
  items: ProposalDto[];
  selectedId: string | null;
  /** Arrived by event and not yet looked at. */
  newIds: ReadonlySet<string>;
  /** The latest arrival, for the banner. */
  lastArrival: ProposalDto | null;
  /** Recently closed proposals (decided here or elsewhere), newest first. */
  outcomes: Outcome[];
  dialog: { kind: DecisionKind; id: string } | null;
  deciding: boolean;
  decisionError: string | null;
  load: () => Promise<void>;
  receive: (proposal: ProposalDto) => void;
  select: (id: string | null) => void;
  move: (delta: number) => void;
  markAllSeen: () => void;
  dismissArrival: () => void;
  openDialog: (kind: DecisionKind) => void;
  closeDialog: () => void;
  decide: (reason?: string) => Promise<boolean>;
}

const byAge = (a: ProposalDto, b: ProposalDto): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;

function withoutId(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  if (!set.has(id)) return set;
  const next = new Set(set);
  next.delete(id);
  return next;
}

export const usePendingStore = create<PendingState>((set, get) => ({
  status: 'idle',
  error: null,
  items: [],
  selectedId: null,
  newIds: new Set(),
  lastArrival: null,
  outcomes: [],
  dialog: null,
  deciding: false,
  decisionError: null,

  load: async () => {
    set({ status: 'loading', error: null });
    const result = await callConsole('listPending');
    if (!result.ok) {
      set({ status: 'error', error: errorText(result.error) });
      return;
    }
    const items = result.value.filter((p) => p.status === 'pending').sort(byAge);
    const { selectedId } = get();
    const keep = items.some((p) => p.id === selectedId);
    set({ status: 'ready', items, selectedId: keep ? selectedId : (items[0]?.id ?? null) });
  },

  receive: (proposal) => {
    const state = get();
    const index = state.items.findIndex((p) => p.id === proposal.id);
    if (proposal.status === 'pending') {
      if (index >= 0) {
        const items = state.items.slice();
        items[index] = proposal;
        set({ items });
        return;
      }
      const items = [...state.items, proposal].sort(byAge);
      const newIds = new Set(state.newIds).add(proposal.id);
      set({ items, newIds, lastArrival: proposal, selectedId: state.selectedId ?? proposal.id });
      return;
    }
    // Closed: executed, denied, expired or failed.
    const outcomes = [{ proposal, at: Date.now() }, ...state.outcomes.filter((o) => o.proposal.id !== proposal.id)];
    if (index < 0) {
      set({ outcomes: outcomes.slice(0, 20) });
      return;
    }
    const items = state.items.filter((p) => p.id !== proposal.id);
    let selectedId = state.selectedId;
    if (selectedId === proposal.id) selectedId = items[Math.min(index, items.length - 1)]?.id ?? null;
    const dialog = state.dialog?.id === proposal.id && !state.deciding ? null : state.dialog;
    set({
      items,
      selectedId,
      dialog,
      outcomes: outcomes.slice(0, 20),
      newIds: withoutId(state.newIds, proposal.id),
      lastArrival: state.lastArrival?.id === proposal.id ? null : state.lastArrival,
    });
  },

  select: (id) => {
    const state = get();
    set({ selectedId: id, newIds: id ? withoutId(state.newIds, id) : state.newIds });
  },

  move: (delta) => {
    const { items, selectedId } = get();
    if (items.length === 0) return;
    const current = items.findIndex((p) => p.id === selectedId);
    const nextIndex = current < 0 ? 0 : Math.max(0, Math.min(items.length - 1, current + delta));
    get().select(items[nextIndex]?.id ?? null);
  },

  markAllSeen: () => set({ newIds: new Set(), lastArrival: null }),
  dismissArrival: () => set({ lastArrival: null }),

  openDialog: (kind) => {
    const { selectedId, items } = get();
    if (!selectedId || !items.some((p) => p.id === selectedId)) return;
    set({ dialog: { kind, id: selectedId }, decisionError: null });
  },

  closeDialog: () => {
    if (!get().deciding) set({ dialog: null, decisionError: null });
  },

  decide: async (reason) => {
    const { dialog } = get();
    if (!dialog) return false;
    set({ deciding: true, decisionError: null });
    const result =
      dialog.kind === 'approve'
        ? await callConsole('approve', { id: dialog.id })
        : await callConsole('deny', { id: dialog.id, reason: reason ?? '' });
    if (!result.ok) {
      set({ deciding: false, decisionError: errorText(result.error) });
      return false;
    }
    set({ deciding: false, dialog: null });
    get().receive(result.value);
    return true;
  },
}));
