import { create } from 'zustand';
import type { ReceiptDto } from '../../../shared/console-dto';
import type { ReceiptQuery } from '../../../shared/console-schemas';
import { callConsole, errorText } from '../bridge';
import { EMPTY_FILTERS, filtersToQuery, liveMatch, PAGE_SIZE, type LedgerFilters } from '../lib/ledger-query';
import type { LoadStatus } from './pending-store';

interface LedgerState {
  filters: LedgerFilters;
  filterError: string | null;
  /** The query the current results answer. */
  query: ReceiptQuery;
  status: LoadStatus;
  error: string | null;
  items: ReceiptDto[];
  nextBeforeSeq: number | null;
  loadingMore: boolean;
  moreError: string | null;
  /** Receipts that arrived live and may match, but are not in the list (full-text query). */
  newSinceSearch: number;
  selectedSeq: number | null;
  setFilters: (patch: Partial<LedgerFilters>) => void;
  search: () => Promise<void>;
  loadMore: () => Promise<void>;
  receiveLive: (receipt: ReceiptDto) => void;
  select: (seq: number | null) => void;
}

/** Guards against answers to a search that has since been replaced. */
let generation = 0;

export const useLedgerStore = create<LedgerState>((set, get) => ({
  filters: EMPTY_FILTERS,
  filterError: null,
  query: {},
  status: 'idle',
  error: null,
  items: [],
  nextBeforeSeq: null,
  loadingMore: false,
  moreError: null,
  newSinceSearch: 0,
  selectedSeq: null,

  setFilters: (patch) => set({ filters: { ...get().filters, ...patch } }),

  search: async () => {
    const built = filtersToQuery(get().filters);
    if ('error' in built) {
      set({ filterError: built.error });
      return;
    }
    const mine = ++generation;
    set({ filterError: null, query: built.query, status: 'loading', error: null, moreError: null, newSinceSearch: 0 });
    const result = await callConsole('searchReceipts', { ...built.query, limit: PAGE_SIZE });
    if (mine !== generation) return;
    if (!result.ok) {
      set({ status: 'error', error: errorText(result.error), items: [], nextBeforeSeq: null });
      return;
    }
    set({ status: 'ready', items: result.value.items, nextBeforeSeq: result.value.nextBeforeSeq, loadingMore: false });
  },

  loadMore: async () => {
    const { nextBeforeSeq, loadingMore, status, query } = get();
    if (nextBeforeSeq === null || loadingMore || status !== 'ready') return;
    const mine = generation;
    set({ loadingMore: true, moreError: null });
    const result = await callConsole('searchReceipts', { ...query, beforeSeq: nextBeforeSeq, limit: PAGE_SIZE });
    if (mine !== generation) return;
    if (!result.ok) {
      set({ loadingMore: false, moreError: errorText(result.error) });
      return;
    }
    const lastSeq = get().items.at(-1)?.seq ?? Number.POSITIVE_INFINITY;
    const fresh = result.value.items.filter((r) => r.seq < lastSeq);
    set({ items: get().items.concat(fresh), nextBeforeSeq: result.value.nextBeforeSeq, loadingMore: false });
  },

  receiveLive: (receipt) => {
    const { status, items, query } = get();
    if (status !== 'ready') return;
    const match = liveMatch(receipt, query);
    if (match === false) return;
    if (match === 'unknown') {
      set({ newSinceSearch: get().newSinceSearch + 1 });
      return;
    }
    if (items.some((r) => r.seq === receipt.seq)) return;
    if (items.length && items[0] && receipt.seq < items[0].seq) return;
    set({ items: [receipt, ...items] });
  },

  select: (seq) => set({ selectedSeq: seq }),
}));
