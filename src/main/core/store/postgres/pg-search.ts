import type pg from 'pg';
import { RECEIPT_COUNT_CAP, type ReceiptCountDto, type ReceiptPage, type ReceiptTotal } from '../../../../shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../../../../shared/console-schemas.ts';
import { DEFAULT_PAGE } from '../../ledger/receipt-search.ts';
import { checkout } from './pg-pool.ts';
import { RECEIPT_WITH_BODIES, receiptFromPgRow, type PgReceiptRow } from './pg-receipt-rows.ts';
import { rareTerm } from './pg-search-plan.ts';
import { eventWordsQuery, receiptQueryTerms, type QueryTerm } from './pg-search-text.ts';

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
  /** Conditions on receipts (r), but the agent's. */
  receipts: Condition[];
  /**
   * The agent filter, on either table: the count reads it beside the words (migration 9), the
   * page from `receipts`, whose (agent, seq) index walks the agent's receipts newest first and
   * stops at the page (EXPLAIN ANALYZE at 200,000 receipts: 1.3 ms, against 12 ms by the words'
   * seq order in receipt_search; README "PostgreSQL" search figures).
   */
  agent: string | null;
  /** There is text to search for: receipt_search takes part. */
  text: boolean;
  /** The text has a word with no token: nothing can match (as on SQLite). */
  none: boolean;
  /**
   * For the count, when there is an agent or an events filter and no rare word: the words of
   * that agent's receipts (or within those events) as agent-word (event-word) pairs, what the
   * index looks up, with what must still be checked on each row they find.
   */
  pairs: Condition[] | null;
}

const inEvents = (events: readonly string[]) => cond('s.event = ANY(?::text[])', events);

async function conditions(db: pg.Pool, q: ReceiptQuery): Promise<Conditions> {
  const c: Conditions = { words: [], receipts: [], agent: q.agent ?? null, text: false, none: false, pairs: null };
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
    if (events) c.words.push(inEvents(events));
    if (!rare) c.pairs = pairConditions(terms, check, events, q.agent);
  } else if (events) c.receipts.push(cond('r.event = ANY(?::text[])', events));
  if (q.action !== undefined) c.receipts.push(cond('r.action = ?', q.action));
  if (q.approverKeyId !== undefined) c.receipts.push(cond('r.approver_key_id = ?', q.approverKeyId));
  if (q.id !== undefined)
    c.receipts.push(cond('(r.proposal_id = ? OR r.exec_id = ? OR r.approval_id = ? OR r.grant_id = ?)', q.id, q.id, q.id, q.id));
  if (q.hash !== undefined) c.receipts.push(cond('(r.request_hash = ? OR r.hash = ?)', q.hash, q.hash));
  // Stored times are toISOString() text, so normalising the bounds makes text order time order.
  if (q.from !== undefined) c.receipts.push(cond('r.time >= ?', new Date(q.from).toISOString()));
  if (q.to !== undefined) c.receipts.push(cond('r.time <= ?', new Date(q.to).toISOString()));
  return c;
}

/**
 * The count's pairs: one agent's receipts are far fewer than an event's, so its agent-word pairs
 * (migration 9's index, which holds only receipts with an agent: the agent is always checked,
 * which also lets the planner use it) when there is one, else the event-word pairs.
 */
function pairConditions(
  terms: readonly QueryTerm[],
  check: Condition,
  events: readonly string[] | null,
  agent: string | undefined,
): Condition[] | null {
  if (agent !== undefined) {
    const pairs = eventWordsQuery(terms, [agent]);
    return [
      cond('openexec_event_words(s.agent, s.search) @@ ?::tsquery', pairs.tsquery),
      cond('s.agent = ?', agent),
      ...(events ? [inEvents(events)] : []),
      ...(pairs.exact ? [] : [check]),
    ];
  }
  if (!events) return null;
  const pairs = eventWordsQuery(terms, events);
  // Checks the pairs already make would only mislead the planner's estimate.
  return [cond('openexec_event_words(s.event, s.search) @@ ?::tsquery', pairs.tsquery), ...(pairs.exact ? [] : [check, inEvents(events)])];
}

const JOINED = 'receipts r JOIN receipt_search s ON s.seq = r.seq';

/**
 * Every match of the query, exact up to RECEIPT_COUNT_CAP as on SQLite. Words of one agent or
 * within an events filter are looked up as agent-word or event-word pairs, so a common word's
 * bitmap is never built whole.
 */
async function countReceipts(db: Pick<pg.PoolClient, 'query'>, c: Conditions): Promise<ReceiptTotal> {
  if (c.none) return { count: 0, exact: true };
  // With text, everything but the receipts' other filters is answered from receipt_search.
  const agent = c.agent === null ? [] : [cond(c.text ? 's.agent = ?' : 'r.agent = ?', c.agent)];
  const where = c.text ? [...(c.pairs ?? [...c.words, ...agent]), ...c.receipts] : [...c.receipts, ...agent];
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
    const where = [...c.words, ...c.receipts, ...(c.agent === null ? [] : [cond('r.agent = ?', c.agent)])];
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
