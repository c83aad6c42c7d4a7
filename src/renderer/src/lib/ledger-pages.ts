import type { ReceiptDto } from '../../../shared/console-dto';

/**
 * One keyset page of the ledger list. Its rows are fixed once it has loaded: the receipts with
 * seq < `before`, newest first, `size` of them (the ledger is append-only and new receipts get
 * higher seqs, so asking again gives the same rows). That is what lets a page far from view be
 * released and fetched again when the operator scrolls back.
 */
export interface PageSlot {
  /** Identifies the slot while pages are added in front of it. */
  key: number;
  /** Keyset bound: rows with seq below this; undefined for a first page not yet loaded. */
  before: number | undefined;
  /** Rows the page holds (0 until it has loaded once). */
  size: number;
  /** Null while released or not yet loaded. */
  items: ReceiptDto[] | null;
}

export function rowCount(pages: readonly PageSlot[]): number {
  return pages.reduce((n, p) => n + p.size, 0);
}

export function heldRows(pages: readonly PageSlot[]): number {
  return pages.reduce((n, p) => n + (p.items?.length ?? 0), 0);
}

/** Which page holds row `index`, and where in it; null past the end. */
export function locate(pages: readonly PageSlot[], index: number): { page: number; offset: number } | null {
  let start = 0;
  for (let page = 0; page < pages.length; page++) {
    const size = pages[page]!.size;
    if (index < start + size) return index >= start ? { page, offset: index - start } : null;
    start += size;
  }
  return null;
}

/** The receipt at row `index`, or null when its page is released or still loading. */
export function rowAt(pages: readonly PageSlot[], index: number): ReceiptDto | null {
  const at = locate(pages, index);
  return at ? (pages[at.page]!.items?.[at.offset] ?? null) : null;
}

/** The row index of receipt `seq` among the pages held, or -1. */
export function indexOfSeq(pages: readonly PageSlot[], seq: number): number {
  let start = 0;
  for (const page of pages) {
    const offset = page.items ? page.items.findIndex((r) => r.seq === seq) : -1;
    if (offset >= 0) return start + offset;
    start += page.size;
  }
  return -1;
}

/** The pages that rows `first`…`last` touch (inclusive), clamped to the pages there are. */
export function pagesOverlapping(pages: readonly PageSlot[], first: number, last: number): { from: number; to: number } {
  const total = rowCount(pages);
  const from = locate(pages, Math.max(0, Math.min(first, total - 1)))?.page ?? 0;
  const to = locate(pages, Math.max(0, Math.min(last, total - 1)))?.page ?? pages.length - 1;
  return { from, to };
}
