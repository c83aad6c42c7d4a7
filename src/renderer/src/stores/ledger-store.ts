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
  /** Every match of the query (see ReceiptPage.total); null while counting or if the count failed. */
  total: ReceiptTotal | null;
  /** The count is asked after the page, which shows without waiting for it. */
  counting: boolean;
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
/**
 * The count covers receipts #1…countThrough (ReceiptCountDto.throughSeq): a live match is added
 * only beyond it. Null while the count is on its way; the live matches heard meanwhile wait in
 * `heardWhileCounting` and those beyond throughSeq are added when it lands.
 */
let countThrough: number | null = null;
let heardWhileCounting: number[] = [];
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
    countThrough = null;
    heardWhileCounting = [];
    set({
      filterError: null,
      query: built.query,
      anchor,
      status: 'loading',
      error: null,
      moreError: null,
      newSinceSearch: 0,
      total: null,
      counting: true,
    });
    // The page alone: counting a common word can take far longer than finding its newest matches.
    const result = await callConsole('searchReceipts', {
      ...built.query,
      ...(anchor === null ? {} : { beforeSeq: anchor + 1 }),
      limit: PAGE_SIZE,
    });
    if (mine !== generation) return;
    if (!result.ok) {
      setPages([], { status: 'error', error: errorText(result.error), nextBefore: null, total: null, counting: false });
      return;
    }
    const { items, nextBeforeSeq } = result.value;
    const first = items[0];
    const pages: PageSlot[] = first ? [slot(anchor === null ? first.seq + 1 : anchor + 1, items.length, items)] : [];
    setPages(pages, { status: 'ready', nextBefore: first ? nextBeforeSeq : null });
    // Asked once the page is in, so it never holds the page up on a single-threaded core.
    const counted = await callConsole('countReceipts', built.query);
    if (mine !== generation) return;
    if (!counted.ok) {
      set({ total: null, counting: false });
      return;
    }
    const { count, exact, throughSeq } = counted.value;
    const since = heardWhileCounting.filter((seq) => seq > throughSeq).length;
    countThrough = throughSeq;
    heardWhileCounting = [];
    set({ total: { count: count + since, exact }, counting: false });
  };

  /** The total with a live match of the query added, if the count does not cover it already. */
  const countLive = (seq: number): ReceiptTotal | null => {
    const { total, counting } = get();
    if (counting) heardWhileCounting.push(seq);
    if (!total || countThrough === null || seq <= countThrough) return total;
    return { ...total, count: total.count + 1 };
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
    counting: false,
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
      const { status, pages, query, anchor } = get();
      if (status === 'idle' || status === 'error') return;
      const match = liveMatch(receipt, query);
      if (match === false) return;
      if (match === 'unknown') {
        if (status === 'ready') set({ newSinceSearch: get().newSinceSearch + 1 });
        return;
      }
      // Counted even while the page loads: the count is asked after it and may or may not cover it.
      const counted = countLive(receipt.seq);
      if (status !== 'ready') {
        set({ total: counted });
        return;
      }
      const top = pages[0];
      if (anchor !== null || (top?.before !== undefined && receipt.seq < top.before)) {
        // Above a jumped-to receipt (not in this list), or already in it.
        set({ total: counted });
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
