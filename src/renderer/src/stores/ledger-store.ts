import { create } from 'zustand';
import type { ReceiptDto, ReceiptTotal } from '../../../shared/console-dto';
import type { ReceiptQuery } from '../../../shared/console-schemas';
import { callConsole, errorText } from '../bridge';
import { EMPTY_FILTERS, filtersToQuery, liveMatch, PAGE_SIZE, type LedgerFilters } from '../lib/ledger-query';
import { heldRows, pagesOverlapping, rowCount, type PageSlot } from '../lib/ledger-pages';
import type { Loadable } from './view-load';

/** Pages kept on either side of the rows on screen; the rest are released. */
const WINDOW_MARGIN_PAGES = 1;
/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 60;
/** Live receipts go into the first page until it holds this many, then start a new one. */
const MAX_FIRST_PAGE = 2 * PAGE_SIZE;

interface LedgerState extends Loadable {
  filters: LedgerFilters;
  filterError: string | null;
  /** The query the current results answer. */
  query: ReceiptQuery;
  /** A sequence number jumped to: the list shows the matches at and below it. Null: from the newest. */
  anchor: number | null;
  pages: PageSlot[];
  /** Where the next, not yet fetched, page starts; null when the last page is the end. */
  nextBefore: number | null;
  /** Every match of the query (see ReceiptPage.total). */
  total: ReceiptTotal | null;
  /** Receipts the store holds right now: bounded by the window, not by how far you scrolled. */
  held: number;
  moreError: string | null;
  /** Receipts that arrived live and may match, but are not in the list (full-text query). */
  newSinceSearch: number;
  selectedSeq: number | null;
  setFilters: (patch: Partial<LedgerFilters>) => void;
  search: () => Promise<void>;
  jumpTo: (seq: number) => Promise<void>;
  showNewest: () => Promise<void>;
  /** The list shows rows `first`…`last`: fetch what they need, release what is far away. */
  setVisible: (first: number, last: number) => void;
  retry: () => void;
  receiveLive: (receipt: ReceiptDto) => void;
  select: (seq: number | null) => void;
}

/** Guards against answers to a search that has since been replaced. */
let generation = 0;
/** Slots being fetched (by key), for the current generation. */
const inFlight = new Set<number>();
let lastVisible = { first: 0, last: 0 };
let nextKey = 1;
const slot = (before: number | undefined, size: number, items: ReceiptDto[] | null): PageSlot => ({ key: nextKey++, before, size, items });

export const useLedgerStore = create<LedgerState>((set, get) => {
  const setPages = (pages: PageSlot[], patch: Partial<LedgerState> = {}) => set({ ...patch, pages, held: heldRows(pages) });

  /** Fetches page `index` (new, or released earlier) with the bound and size it has. */
  const fetchPage = async (at: number) => {
    const wanted = get().pages[at];
    if (!wanted || wanted.items || inFlight.has(wanted.key)) return;
    const mine = generation;
    inFlight.add(wanted.key);
    const fresh = wanted.size === 0;
    const result = await callConsole('searchReceipts', {
      ...get().query,
      ...(wanted.before === undefined ? {} : { beforeSeq: wanted.before }),
      limit: fresh ? PAGE_SIZE : wanted.size,
    });
    if (mine !== generation) return;
    inFlight.delete(wanted.key);
    if (!result.ok) {
      set({ moreError: errorText(result.error) });
      return;
    }
    const pages = get().pages.slice();
    // Live receipts may have put pages in front of it meanwhile.
    const index = pages.findIndex((p) => p.key === wanted.key);
    if (index < 0) return;
    const items = result.value.items;
    pages[index] = { ...wanted, size: fresh ? items.length : wanted.size, items };
    const patch: Partial<LedgerState> = { moreError: null };
    if (fresh && index === pages.length - 1) patch.nextBefore = result.value.nextBeforeSeq;
    // Released while it was on its way: the window has moved on.
    const { from, to } = pagesOverlapping(pages, lastVisible.first, lastVisible.last);
    if (index < from - WINDOW_MARGIN_PAGES || index > to + WINDOW_MARGIN_PAGES) pages[index] = { ...pages[index]!, items: null };
    setPages(pages, patch);
    get().setVisible(lastVisible.first, lastVisible.last);
  };

  const run = async (anchor: number | null) => {
    const built = filtersToQuery(get().filters);
    if ('error' in built) {
      set({ filterError: built.error });
      return;
    }
    const mine = ++generation;
    inFlight.clear();
    lastVisible = { first: 0, last: 0 };
    set({ filterError: null, query: built.query, anchor, status: 'loading', error: null, moreError: null, newSinceSearch: 0 });
    const result = await callConsole('searchReceipts', {
      ...built.query,
      ...(anchor === null ? {} : { beforeSeq: anchor + 1 }),
      limit: PAGE_SIZE,
      count: true,
    });
    if (mine !== generation) return;
    if (!result.ok) {
      setPages([], { status: 'error', error: errorText(result.error), nextBefore: null, total: null });
      return;
    }
    const { items, nextBeforeSeq, total } = result.value;
    const first = items[0];
    const pages: PageSlot[] = first ? [slot(anchor === null ? first.seq + 1 : anchor + 1, items.length, items)] : [];
    setPages(pages, { status: 'ready', nextBefore: first ? nextBeforeSeq : null, total: total ?? null });
  };

  return {
    filters: EMPTY_FILTERS,
    filterError: null,
    query: {},
    anchor: null,
    status: 'idle',
    error: null,
    pages: [],
    nextBefore: null,
    total: null,
    held: 0,
    moreError: null,
    newSinceSearch: 0,
    selectedSeq: null,

    setFilters: (patch) => set({ filters: { ...get().filters, ...patch } }),
    search: () => run(get().anchor),
    jumpTo: async (seq) => {
      set({ selectedSeq: seq });
      await run(seq);
    },
    showNewest: () => run(null),

    setVisible: (first, last) => {
      lastVisible = { first, last };
      const { pages, nextBefore, status, moreError } = get();
      if (status !== 'ready') return;
      const total = rowCount(pages);
      if (nextBefore !== null && !moreError && last >= total - PREFETCH_ROWS) {
        const grown = [...pages, slot(nextBefore, 0, null)];
        set({ pages: grown, nextBefore: null });
        void fetchPage(grown.length - 1);
        return;
      }
      if (pages.length === 0) return;
      const { from, to } = pagesOverlapping(pages, first, last);
      const keepFrom = from - WINDOW_MARGIN_PAGES;
      const keepTo = to + WINDOW_MARGIN_PAGES;
      let released = false;
      const next = pages.map((page, i) => {
        if (page.items && (i < keepFrom || i > keepTo)) {
          released = true;
          return { ...page, items: null };
        }
        return page;
      });
      if (released) setPages(next);
      for (let i = Math.max(0, keepFrom); i <= Math.min(next.length - 1, keepTo); i++) {
        if (!next[i]!.items) void fetchPage(i);
      }
    },

    retry: () => {
      set({ moreError: null });
      const { pages } = get();
      // A failed discovery left an empty slot at the end: fetch it again.
      if (pages.at(-1)?.size === 0) void fetchPage(pages.length - 1);
      get().setVisible(lastVisible.first, lastVisible.last);
    },

    receiveLive: (receipt) => {
      const { status, pages, query, anchor, total } = get();
      if (status !== 'ready') return;
      const match = liveMatch(receipt, query);
      if (match === false) return;
      if (match === 'unknown') {
        set({ newSinceSearch: get().newSinceSearch + 1 });
        return;
      }
      const counted = total ? { ...total, count: total.count + 1 } : null;
      const top = pages[0];
      if (anchor !== null || (top?.before !== undefined && receipt.seq < top.before)) {
        // Above a jumped-to receipt (not in this list), or already in it.
        if (anchor !== null) set({ total: counted });
        return;
      }
      const rest = pages.slice(1);
      const next: PageSlot[] =
        top && top.items && top.size < MAX_FIRST_PAGE
          ? [{ ...top, before: receipt.seq + 1, size: top.size + 1, items: [receipt, ...top.items] }, ...rest]
          : [slot(receipt.seq + 1, 1, [receipt]), ...pages];
      setPages(next, { total: counted });
    },

    select: (seq) => set({ selectedSeq: seq }),
  };
});
