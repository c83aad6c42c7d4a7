import type pg from 'pg';
import { RECEIPT_COUNT_CAP, type ReceiptDto, type ReceiptPage, type ReceiptTotal } from '../../../../shared/console-dto.ts';
import type { ReceiptQuery } from '../../../../shared/console-schemas.ts';
import { DEFAULT_PAGE } from '../../ledger/receipt-search.ts';
import { RECEIPT_COLUMNS, receiptFromRow, type ReceiptRow } from '../../ledger/receipt-row.ts';
import { rareTerm } from './pg-search-plan.ts';
import { receiptQueryTerms } from './pg-search-text.ts';

/** A receipts row as the driver returns it (bigint arrives as text), with the body's agent. */
export type PgReceiptRow = Omit<ReceiptRow, 'seq'> & { seq: string | number; agent: string | null };

export function receiptFromPgRow(row: PgReceiptRow): ReceiptDto {
  return receiptFromRow({ ...row, seq: Number(row.seq) });
}

export const SELECT_RECEIPT = `SELECT ${RECEIPT_COLUMNS}, agent FROM receipts`;

interface Conditions {
  where: string[];
  params: unknown[];
  /** The text has a word with no token: nothing can match (as on SQLite). */
  none: boolean;
}

/** The same filters as the SQLite search (receipt-search.ts), in PostgreSQL. */
async function conditions(db: pg.Pool, q: ReceiptQuery): Promise<Conditions> {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const terms = q.text === undefined ? null : receiptQueryTerms(q.text);
  if (terms === false) return { where, params, none: true };
  if (terms !== null) {
    const match = terms.map((t) => t.tsquery).join(' & ');
    const rare = await rareTerm(db, terms);
    // ts_match_vq is @@ without the index: the whole query, checked on the rare word's rows.
    if (rare) where.push(`search @@ ${p(rare.tsquery)}::tsquery AND ts_match_vq(search, ${p(match)}::tsquery)`);
    else where.push(`search @@ ${p(match)}::tsquery`);
  }
  if (q.events && q.events.length > 0) where.push(`event = ANY(${p(q.events)}::text[])`);
  if (q.action !== undefined) where.push(`action = ${p(q.action)}`);
  if (q.agent !== undefined) where.push(`agent = ${p(q.agent)}`);
  if (q.approverKeyId !== undefined) where.push(`approver_key_id = ${p(q.approverKeyId)}`);
  if (q.id !== undefined) {
    const id = p(q.id);
    where.push(`(proposal_id = ${id} OR exec_id = ${id} OR approval_id = ${id} OR grant_id = ${id})`);
  }
  if (q.hash !== undefined) {
    const hash = p(q.hash);
    where.push(`(request_hash = ${hash} OR hash = ${hash})`);
  }
  // Stored times are toISOString() text, so normalising the bounds makes text order time order.
  if (q.from !== undefined) where.push(`time >= ${p(new Date(q.from).toISOString())}`);
  if (q.to !== undefined) where.push(`time <= ${p(new Date(q.to).toISOString())}`);
  return { where, params, none: false };
}

const whereSql = (where: readonly string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

async function countReceipts(db: pg.Pool, c: Conditions): Promise<ReceiptTotal> {
  if (c.none) return { count: 0, exact: true };
  if (c.where.length === 0) {
    const { rows } = await db.query<{ n: string }>('SELECT coalesce(max(seq), 0) AS n FROM receipts');
    return { count: Number(rows[0]?.n ?? 0), exact: true };
  }
  const sql = `SELECT count(*) AS n FROM (SELECT 1 FROM receipts ${whereSql(c.where)} LIMIT $${c.params.length + 1}) capped`;
  const { rows } = await db.query<{ n: string }>(sql, [...c.params, RECEIPT_COUNT_CAP + 1]);
  const count = Number(rows[0]?.n ?? 0);
  return count > RECEIPT_COUNT_CAP ? { count: RECEIPT_COUNT_CAP, exact: false } : { count, exact: true };
}

/** Newest first, keyset-paginated on seq, full text through the GIN-indexed tsvector. */
export async function searchPostgres(db: pg.Pool, q: ReceiptQuery): Promise<ReceiptPage> {
  const limit = q.limit ?? DEFAULT_PAGE;
  const c = await conditions(db, q);
  let items: ReceiptDto[] = [];
  let more = false;
  if (!c.none) {
    const where = [...c.where];
    const params = [...c.params];
    if (q.beforeSeq !== undefined) {
      params.push(q.beforeSeq);
      where.push(`seq < $${params.length}`);
    }
    params.push(limit + 1);
    const sql = `${SELECT_RECEIPT} ${whereSql(where)} ORDER BY seq DESC LIMIT $${params.length}`;
    const { rows } = await db.query<PgReceiptRow>(sql, params);
    more = rows.length > limit;
    items = rows.slice(0, limit).map(receiptFromPgRow);
  }
  const page: ReceiptPage = { items, nextBeforeSeq: more && items.length > 0 ? items[items.length - 1]!.seq : null };
  if (q.count) page.total = await countReceipts(db, c);
  return page;
}
