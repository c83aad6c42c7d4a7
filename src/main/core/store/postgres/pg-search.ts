import type pg from 'pg';
import { RECEIPT_COUNT_CAP, type ReceiptPage, type ReceiptTotal } from '../../../../shared/console-dto.ts';
import type { ReceiptQuery } from '../../../../shared/console-schemas.ts';
import { DEFAULT_PAGE } from '../../ledger/receipt-search.ts';
import { RECEIPT_COLUMNS } from '../../ledger/receipt-row.ts';
import { receiptsWithBodies, type PgReceiptRow } from './pg-receipt-rows.ts';
import { rareTerm } from './pg-search-plan.ts';
import { eventWordsQuery, receiptQueryTerms } from './pg-search-text.ts';

/**
 * The console's search on PostgreSQL, with the SQLite search's filters and answers
 * (receipt-search.ts). Receipts are `r`; their search words, kept beside them in
 * `receipt_search` (so retention can remove them), are `s`, joined only when there is text.
 */
interface Conditions {
  /** Conditions on receipt_search (s): the words as the index looks them up, the events. */
  words: string[];
  /** Conditions on receipts (r). */
  receipts: string[];
  params: unknown[];
  /** There is text to search for: receipt_search takes part. */
  text: boolean;
  /** The text has a word with no token: nothing can match (as on SQLite). */
  none: boolean;
  /**
   * For the count, when there is an events filter and no rare word: the words within those
   * events as event-word pairs (what the index looks up, a tsquery), and the conditions that
   * check each row they find (the whole text, the events).
   */
  eventWords: { tsquery: string; checks: string[] } | null;
}

async function conditions(db: pg.Pool, q: ReceiptQuery): Promise<Conditions> {
  const c: Conditions = { words: [], receipts: [], params: [], text: false, none: false, eventWords: null };
  const p = (value: unknown) => {
    c.params.push(value);
    return `$${c.params.length}`;
  };
  const terms = q.text === undefined ? null : receiptQueryTerms(q.text);
  if (terms === false) return { ...c, none: true };
  const events = q.events && q.events.length > 0 ? q.events : null;
  if (terms !== null) {
    c.text = true;
    const match = p(terms.map((t) => t.tsquery).join(' & '));
    // ts_match_vq is @@ without the index: the whole query, checked on the rows the index found.
    const check = `ts_match_vq(s.search, ${match}::tsquery)`;
    const rare = await rareTerm(db, terms);
    if (rare) c.words.push(`s.search @@ ${p(rare.tsquery)}::tsquery`, check);
    else c.words.push(`s.search @@ ${match}::tsquery`);
    if (events) {
      const inEvents = `s.event = ANY(${p(events)}::text[])`;
      c.words.push(inEvents);
      if (!rare) c.eventWords = { tsquery: eventWordsQuery(terms, events), checks: [check, inEvents] };
    }
  } else if (events) c.receipts.push(`r.event = ANY(${p(events)}::text[])`);
  if (q.action !== undefined) c.receipts.push(`r.action = ${p(q.action)}`);
  if (q.agent !== undefined) c.receipts.push(`r.agent = ${p(q.agent)}`);
  if (q.approverKeyId !== undefined) c.receipts.push(`r.approver_key_id = ${p(q.approverKeyId)}`);
  if (q.id !== undefined) {
    const id = p(q.id);
    c.receipts.push(`(r.proposal_id = ${id} OR r.exec_id = ${id} OR r.approval_id = ${id} OR r.grant_id = ${id})`);
  }
  if (q.hash !== undefined) {
    const hash = p(q.hash);
    c.receipts.push(`(r.request_hash = ${hash} OR r.hash = ${hash})`);
  }
  // Stored times are toISOString() text, so normalising the bounds makes text order time order.
  if (q.from !== undefined) c.receipts.push(`r.time >= ${p(new Date(q.from).toISOString())}`);
  if (q.to !== undefined) c.receipts.push(`r.time <= ${p(new Date(q.to).toISOString())}`);
  return c;
}

const whereSql = (where: readonly string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

const JOINED = 'receipts r JOIN receipt_search s ON s.seq = r.seq';

/**
 * Every match of the query, exact up to RECEIPT_COUNT_CAP as on SQLite. Words within an event
 * filter are looked up as event-word pairs, so a common word's bitmap is never built whole: its
 * words are then checked on each row found.
 */
async function countReceipts(db: pg.Pool, c: Conditions): Promise<ReceiptTotal> {
  if (c.none) return { count: 0, exact: true };
  const params = [...c.params];
  const words =
    c.eventWords === null
      ? c.words
      : [`openexec_event_words(s.event, s.search) @@ $${params.push(c.eventWords.tsquery)}::tsquery`, ...c.eventWords.checks];
  const where = [...words, ...c.receipts];
  if (where.length === 0) {
    const { rows } = await db.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM receipts');
    return { count: Number(rows[0]?.n ?? 0), exact: true };
  }
  const from = !c.text ? 'receipts r' : c.receipts.length > 0 ? JOINED : 'receipt_search s';
  const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${whereSql(where)} LIMIT $${params.push(RECEIPT_COUNT_CAP + 1)}) capped`;
  const { rows } = await db.query<{ n: string }>(sql, params);
  const count = Number(rows[0]?.n ?? 0);
  return count > RECEIPT_COUNT_CAP ? { count: RECEIPT_COUNT_CAP, exact: false } : { count, exact: true };
}

const COLUMNS = `${RECEIPT_COLUMNS.split(', ')
  .map((col) => `r.${col}`)
  .join(', ')}, r.agent`;

/** Newest first, keyset-paginated on seq, full text through the GIN-indexed tsvector beside each receipt. */
export async function searchPostgres(db: pg.Pool, q: ReceiptQuery): Promise<ReceiptPage> {
  const limit = q.limit ?? DEFAULT_PAGE;
  const c = await conditions(db, q);
  let rows: PgReceiptRow[] = [];
  if (!c.none) {
    const where = [...c.words, ...c.receipts];
    const params = [...c.params];
    if (q.beforeSeq !== undefined) {
      params.push(q.beforeSeq);
      // On both sides of the join: each index scan then starts at the page, not at the head.
      where.push(`r.seq < $${params.length}`);
      if (c.text) where.push(`s.seq < $${params.length}`);
    }
    params.push(limit + 1);
    const from = c.text ? JOINED : 'receipts r';
    const sql = `SELECT ${COLUMNS} FROM ${from} ${whereSql(where)} ORDER BY r.seq DESC LIMIT $${params.length}`;
    rows = (await db.query<PgReceiptRow>(sql, params)).rows;
  }
  const more = rows.length > limit;
  const items = await receiptsWithBodies(db, rows.slice(0, limit));
  const page: ReceiptPage = { items, nextBeforeSeq: more && items.length > 0 ? items[items.length - 1]!.seq : null };
  if (q.count) page.total = await countReceipts(db, c);
  return page;
}
