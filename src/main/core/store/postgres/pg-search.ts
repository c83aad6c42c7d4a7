import type pg from 'pg';
import { RECEIPT_COUNT_CAP, type ReceiptCountDto, type ReceiptPage, type ReceiptTotal } from '../../../../shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../../../../shared/console-schemas.ts';
import { DEFAULT_PAGE } from '../../ledger/receipt-search.ts';
import { checkout } from './pg-pool.ts';
import { RECEIPT_WITH_BODIES, receiptFromPgRow, type PgReceiptRow } from './pg-receipt-rows.ts';
import { rareTerm } from './pg-search-plan.ts';
import { eventWordsQuery, receiptQueryTerms } from './pg-search-text.ts';

/**
 * The console's search on PostgreSQL, with the SQLite search's filters and answers
 * (receipt-search.ts). Receipts are `r`; their search words, kept beside them in
 * `receipt_search` (so retention can remove them), are `s`, joined only when there is text.
 */

/** One condition: SQL with a `?` for each value, numbered when the query is put together. */
interface Condition {
  sql: string;
  values: unknown[];
}

const cond = (sql: string, ...values: unknown[]): Condition => ({ sql, values });

/** `WHERE …` and `extra` after it, with their values numbered $1, $2, … in order. */
function bind(where: readonly Condition[], extra: Condition): { sql: string; values: unknown[] } {
  const values: unknown[] = [];
  const number = (c: Condition) => {
    let i = 0;
    return c.sql.replace(/\?/g, () => {
      values.push(c.values[i++]);
      return `$${values.length}`;
    });
  };
  const clauses = where.map(number);
  const tail = number(extra);
  return { sql: `${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ${tail}`, values };
}

interface Conditions {
  /** Conditions on receipt_search (s): the words as the GIN index looks them up, the events. */
  words: Condition[];
  /** Conditions on receipts (r). */
  receipts: Condition[];
  /** There is text to search for: receipt_search takes part. */
  text: boolean;
  /** The text has a word with no token: nothing can match (as on SQLite). */
  none: boolean;
  /**
   * For the count, when there is an events filter and no rare word: the words within those
   * events as event-word pairs (what the index looks up), with what must still be checked on
   * each row they find (nothing when the pairs are exact).
   */
  eventWords: Condition[] | null;
}

async function conditions(db: pg.Pool, q: ReceiptQuery): Promise<Conditions> {
  const c: Conditions = { words: [], receipts: [], text: false, none: false, eventWords: null };
  const terms = q.text === undefined ? null : receiptQueryTerms(q.text);
  if (terms === false) return { ...c, none: true };
  const events = q.events && q.events.length > 0 ? q.events : null;
  if (terms !== null) {
    c.text = true;
    const match = terms.map((t) => t.tsquery).join(' & ');
    // ts_match_vq is @@ without the index: the whole query, checked on the rows the index found.
    const check = cond('ts_match_vq(s.search, ?::tsquery)', match);
    const rare = await rareTerm(db, terms);
    if (rare) c.words.push(cond('s.search @@ ?::tsquery', rare.tsquery), check);
    else c.words.push(cond('s.search @@ ?::tsquery', match));
    if (events) {
      const inEvents = cond('s.event = ANY(?::text[])', events);
      c.words.push(inEvents);
      if (!rare) {
        const pairs = eventWordsQuery(terms, events);
        // Checks the pairs already make would only mislead the planner's estimate.
        c.eventWords = [
          cond('openexec_event_words(s.event, s.search) @@ ?::tsquery', pairs.tsquery),
          ...(pairs.exact ? [] : [check, inEvents]),
        ];
      }
    }
  } else if (events) c.receipts.push(cond('r.event = ANY(?::text[])', events));
  if (q.action !== undefined) c.receipts.push(cond('r.action = ?', q.action));
  if (q.agent !== undefined) c.receipts.push(cond('r.agent = ?', q.agent));
  if (q.approverKeyId !== undefined) c.receipts.push(cond('r.approver_key_id = ?', q.approverKeyId));
  if (q.id !== undefined)
    c.receipts.push(cond('(r.proposal_id = ? OR r.exec_id = ? OR r.approval_id = ? OR r.grant_id = ?)', q.id, q.id, q.id, q.id));
  if (q.hash !== undefined) c.receipts.push(cond('(r.request_hash = ? OR r.hash = ?)', q.hash, q.hash));
  // Stored times are toISOString() text, so normalising the bounds makes text order time order.
  if (q.from !== undefined) c.receipts.push(cond('r.time >= ?', new Date(q.from).toISOString()));
  if (q.to !== undefined) c.receipts.push(cond('r.time <= ?', new Date(q.to).toISOString()));
  return c;
}

const JOINED = 'receipts r JOIN receipt_search s ON s.seq = r.seq';

/**
 * Every match of the query, exact up to RECEIPT_COUNT_CAP as on SQLite. Words within an events
 * filter are looked up as event-word pairs, so a common word's bitmap is never built whole.
 */
async function countReceipts(db: Pick<pg.PoolClient, 'query'>, c: Conditions): Promise<ReceiptTotal> {
  if (c.none) return { count: 0, exact: true };
  const where = [...(c.eventWords ?? c.words), ...c.receipts];
  if (where.length === 0) {
    const { rows } = await db.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM receipts');
    return { count: Number(rows[0]?.n ?? 0), exact: true };
  }
  const from = !c.text ? 'receipts r' : c.receipts.length > 0 ? JOINED : 'receipt_search s';
  const query = bind(where, cond('LIMIT ?', RECEIPT_COUNT_CAP + 1));
  const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${from} ${query.sql}) capped`, query.values);
  const count = Number(rows[0]?.n ?? 0);
  return count > RECEIPT_COUNT_CAP ? { count: RECEIPT_COUNT_CAP, exact: false } : { count, exact: true };
}

/** Newest first, keyset-paginated on seq, full text through the GIN-indexed tsvector beside each receipt. */
export async function searchPostgres(db: pg.Pool, q: ReceiptQuery): Promise<ReceiptPage> {
  const limit = q.limit ?? DEFAULT_PAGE;
  const c = await conditions(db, q);
  let rows: PgReceiptRow[] = [];
  if (!c.none) {
    const where = [...c.words, ...c.receipts];
    if (q.beforeSeq !== undefined) {
      // On both sides of the join: each index scan then starts at the page, not at the head.
      where.push(cond('r.seq < ?', q.beforeSeq));
      if (c.text) where.push(cond('s.seq < ?', q.beforeSeq));
    }
    const query = bind(where, cond('ORDER BY r.seq DESC LIMIT ?', limit + 1));
    rows = (await db.query<PgReceiptRow>(`SELECT ${RECEIPT_WITH_BODIES} FROM ${c.text ? JOINED : 'receipts r'} ${query.sql}`, query.values))
      .rows;
  }
  const more = rows.length > limit;
  const items = rows.slice(0, limit).map(receiptFromPgRow);
  const page: ReceiptPage = { items, nextBeforeSeq: more && items.length > 0 ? items[items.length - 1]!.seq : null };
  if (q.count) page.total = await countReceipts(db, c);
  return page;
}

/**
 * The count alone, with the newest seq in the same snapshot (a read-only REPEATABLE READ
 * transaction). Receipts commit in seq order under the ledger lock, so the snapshot holds
 * exactly #1…throughSeq: the console adds only live receipts beyond it.
 */
export async function countPostgres(db: pg.Pool, q: ReceiptCountQuery): Promise<ReceiptCountDto> {
  const c = await conditions(db, q);
  const client = await checkout(db);
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM receipts');
    const total = await countReceipts(client, c);
    await client.query('COMMIT');
    client.release();
    return { ...total, throughSeq: Number(rows[0]?.n ?? 0) };
  } catch (err) {
    // Not put back in the pool: it may still be inside the transaction.
    client.release(true);
    throw err;
  }
}
