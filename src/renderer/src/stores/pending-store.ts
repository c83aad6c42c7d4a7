import { create } from 'zustand';
import type { PreviousApprovedDto, ProposalDto } from '../../../shared/console-dto';
import { callConsole, errorText, requestNotification } from '../bridge';
import { windowFocused } from '../lib/window-focus';
import { useConnectionStore } from './connection-store';
import { useGrantsStore } from './grants-store';
import type { ConsoleResult } from '../../../shared/console-result';
import type { SimilarGrantInput } from '../../../shared/grant-schemas';

import type { LoadStatus } from './view-load';

export type { LoadStatus };
export type DecisionKind = 'approve' | 'deny';
/** What "Approve similar…" asks for beyond the proposal: the fields that may vary and the limit. */
export type SimilarTerms = Omit<SimilarGrantInput, 'id'>;

/** Approves once and grants the like of it; answers with the proposal, as `approve` does. */
async function approveSimilar(input: SimilarGrantInput): Promise<ConsoleResult<ProposalDto>> {
  const result = await callConsole('approveSimilar', input);
  if (!result.ok) return result;
  useGrantsStore.getState().invalidate();
  return { ok: true, value: result.value.proposal };
}

export interface Outcome {
  proposal: ProposalDto;
  at: number;
}

/** How long one press of Extend adds (the core bounds it further). */
export const EXTEND_SECONDS = 300;

interface PendingState {
  status: LoadStatus;
  error: string | null;
  /** Pending proposals, oldest first. */
  items: ProposalDto[];
  /**
   * The proposal on screen. It changes only when the operator moves it: a proposal that closes
   * (here or elsewhere, or by expiry) stays on screen with its outcome.
   */
  selectedId: string | null;
  /** Arrived by event and not yet looked at. */
  newIds: ReadonlySet<string>;
  /** The latest arrival, for the banner. */
  lastArrival: ProposalDto | null;
  /** Recently closed proposals (decided here or elsewhere), newest first. */
  outcomes: Outcome[];
  /** The last executed proposal of the same action, by proposal id (null: there is none). */
  previous: Record<string, PreviousApprovedDto | null>;
  dialog: { kind: DecisionKind; id: string } | null;
  deciding: boolean;
  decisionError: string | null;
  extending: boolean;
  extendError: string | null;
  /** Strings shown as their canonical `\uXXXX` escapes rather than as text (key E). */
  escaped: boolean;
  toggleEscaped: () => void;
  load: () => Promise<void>;
  receive: (proposal: ProposalDto) => void;
  select: (id: string | null) => void;
  move: (delta: number) => void;
  markAllSeen: () => void;
  dismissArrival: () => void;
  openDialog: (kind: DecisionKind) => void;
  closeDialog: () => void;
  /**
   * With `grant`, an approval also signs a grant for requests like this one ("Approve similar…").
   * `operator`: whose key signs an approval (the primary's when absent).
   */
  decide: (reason?: string, grant?: SimilarTerms, operator?: string) => Promise<boolean>;
  extend: () => Promise<void>;
}

const byAge = (a: ProposalDto, b: ProposalDto): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1;

function withoutId(set: ReadonlySet<string>, id: string): ReadonlySet<string> {
  if (!set.has(id)) return set;
  const next = new Set(set);
  next.delete(id);
  return next;
}

/** The proposal with `id` as last seen: pending, or recently closed. */
export function proposalById(s: Pick<PendingState, 'items' | 'outcomes'>, id: string | null | undefined): ProposalDto | null {
  if (!id) return null;
  return s.items.find((p) => p.id === id) ?? s.outcomes.find((o) => o.proposal.id === id)?.proposal ?? null;
}

/** The proposal on screen. */
export const selectShown = (s: PendingState): ProposalDto | null => proposalById(s, s.selectedId);

export const usePendingStore = create<PendingState>((set, get) => {
  const remember = (proposal: ProposalDto): void => {
    const outcomes = [{ proposal, at: Date.now() }, ...get().outcomes.filter((o) => o.proposal.id !== proposal.id)];
    set({ outcomes: outcomes.slice(0, 20) });
  };

  // What the proposal on screen can be compared with; asked once per proposal.
  const loadPrevious = async (id: string): Promise<void> => {
    if (id in get().previous) return;
    const result = await callConsole('getProposal', { id });
    if (!result.ok) return;
    set({ previous: { ...get().previous, [id]: result.value.previousApproved } });
    if (result.value.status !== 'pending' && !get().items.some((p) => p.id === id)) remember(result.value);
  };

  return {
    status: 'idle',
    error: null,
    items: [],
    selectedId: null,
    newIds: new Set(),
    lastArrival: null,
    outcomes: [],
    previous: {},
    dialog: null,
    deciding: false,
    decisionError: null,
    extending: false,
    extendError: null,
    escaped: false,
    toggleEscaped: () => set({ escaped: !get().escaped }),

    load: async () => {
      set({ status: 'loading', error: null });
      const result = await callConsole('listPending');
      if (!result.ok) {
        set({ status: 'error', error: errorText(result.error) });
        return;
      }
      const items = result.value.filter((p) => p.status === 'pending').sort(byAge);
      const { selectedId } = get();
      const selected = selectedId ?? items[0]?.id ?? null;
      set({ status: 'ready', items, selectedId: selected });
      if (selected === null) return;
      // The one on screen closed while nobody was told (a lost connection): fetch its outcome.
      if (selectedId !== null && !items.some((p) => p.id === selectedId)) {
        const closed = await callConsole('getProposal', { id: selectedId });
        if (closed.ok) remember(closed.value);
      }
      void loadPrevious(selected);
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
        const selectedId = state.selectedId ?? proposal.id;
        set({ items, newIds, lastArrival: proposal, selectedId });
        if (selectedId === proposal.id) void loadPrevious(proposal.id);
        if (!windowFocused()) void requestNotification(proposal.id);
        return;
      }
      // Closed: executed, denied, expired or failed. It stays on screen if it is there.
      remember(proposal);
      if (index < 0) return;
      set({
        items: state.items.filter((p) => p.id !== proposal.id),
        newIds: withoutId(state.newIds, proposal.id),
        lastArrival: state.lastArrival?.id === proposal.id ? null : state.lastArrival,
      });
    },

    select: (id) => {
      const state = get();
      set({ selectedId: id, newIds: id ? withoutId(state.newIds, id) : state.newIds, extendError: null });
      if (id) void loadPrevious(id);
    },

    move: (delta) => {
      const state = get();
      const { items } = state;
      if (items.length === 0) return;
      const current = items.findIndex((p) => p.id === state.selectedId);
      let next: number;
      if (current >= 0) next = current + delta;
      else {
        // The one on screen has closed: step from where it stood in the queue.
        const shown = selectShown(state);
        const at = shown ? items.filter((p) => byAge(p, shown) < 0).length : 0;
        next = delta > 0 ? at + delta - 1 : at + delta;
      }
      get().select(items[Math.max(0, Math.min(items.length - 1, next))]?.id ?? null);
    },

    markAllSeen: () => set({ newIds: new Set(), lastArrival: null }),
    dismissArrival: () => set({ lastArrival: null }),

    openDialog: (kind) => {
      const { selectedId, items } = get();
      // Only a proposal that is still pending can be decided, and only with the core there.
      if (!selectedId || !items.some((p) => p.id === selectedId)) return;
      if (!useConnectionStore.getState().connected) return;
      set({ dialog: { kind, id: selectedId }, decisionError: null, extendError: null });
    },

    closeDialog: () => {
      if (!get().deciding) set({ dialog: null, decisionError: null });
    },

    decide: async (reason, grant, operator) => {
      const { dialog } = get();
      if (!dialog) return false;
      set({ deciding: true, decisionError: null });
      const result =
        dialog.kind === 'approve'
          ? grant
            ? await approveSimilar({ id: dialog.id, ...grant })
            : await callConsole('approve', { id: dialog.id, ...(operator ? { operator } : {}) })
          : await callConsole('deny', { id: dialog.id, reason: reason ?? '' });
      if (!result.ok) {
        const lost = result.error.code === 'unavailable';
        set({
          deciding: false,
          decisionError: lost
            ? 'The connection to OpenExec was lost before it answered. Once the console reconnects, the queue shows what happened.'
            : errorText(result.error),
        });
        return false;
      }
      set({ deciding: false, dialog: null });
      get().receive(result.value);
      return true;
    },

    extend: async () => {
      const id = get().dialog?.id ?? get().selectedId;
      if (!id || get().extending) return;
      set({ extending: true, extendError: null });
      const result = await callConsole('extend', { id, seconds: EXTEND_SECONDS });
      set({ extending: false, extendError: result.ok ? null : errorText(result.error) });
      if (result.ok) get().receive(result.value);
    },
  };
});
