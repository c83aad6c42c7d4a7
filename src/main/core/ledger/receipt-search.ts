import type { SqliteDatabase } from '../store/database.ts';
import {
  RECEIPT_COUNT_CAP,
  type ReceiptCountDto,
  type ReceiptPage,
  type ReceiptTotal,
  type ReceiptWithNeighboursDto,
} from '../../../shared/console-dto.ts';
import type { ReceiptCountQuery, ReceiptQuery } from '../../../shared/console-schemas.ts';
import { STORED_RECEIPT_COLUMNS, receiptFromRow, rowFromStored, type StoredReceiptRow } from './receipt-row.ts';
import { searchIndexOf } from './search-index.ts';
import { ReceiptBodies } from './receipt-bodies.ts';

export const DEFAULT_PAGE = 100;

/**
 * Free text as an FTS5 query that cannot be a syntax error: every word becomes a quoted
 * prefix term, all of which must match. Returns null when there is no word to search for.
 */
export function ftsQuery(text: string): string | null {
  const words = text.match(/[\p{L}\p{N}_]+/gu);
  if (!words || words.length === 0) return null;
  return words
    .slice(0, 16)
    .map((w) => `"${w}"*`)
    .join(' AND ');
}

/** Receipts that carry an id (4 parameters: the id each time); each column has a partial index. */
export const ID_MATCH = '(r.proposal_id = ? OR r.exec_id = ? OR r.approval_id = ? OR r.grant_id = ?)';

/**
 * Receipts whose request hash or own hash is a hex sha256 (4 parameters: the hash each time).
 * Both indexes hold a prefix (receipts-layout.ts): the prefix finds the row, the whole value decides.
 */
export const HASH_MATCH =
  '((substr(r.request_hash, 1, 16) = substr(?, 1, 16) AND r.request_hash = ?) OR (substr(r.hash_bytes, 1, 8) = substr(unhex(?), 1, 8) AND r.hash_bytes = unhex(?)))';

interface Conditions {
  from: string;
  order: string;
  where: string[];
  params: unknown[];
}

/** The query's FROM and WHERE, without its page bounds. */
function conditions(q: ReceiptQuery): Conditions {
  const where: string[] = [];
  const params: unknown[] = [];
  const match = q.text === undefined ? null : ftsQuery(q.text);
  if (match !== null) {
    // Driven from the index in rowid (= seq) order, so a page stops after `limit` hits
    // instead of gathering every match of a common word first.
    where.push('receipts_fts MATCH ?');
    params.push(match);
  }
  if (q.events && q.events.length > 0) {
    where.push(`r.event IN (${q.events.map(() => '?').join(', ')})`);
    params.push(...q.events);
  }
  if (q.action !== undefined) {
    where.push('r.action = ?');
    params.push(q.action);
  }
  if (q.agent !== undefined) {
    where.push("json_extract(r.body, '$.agent') = ?");
    params.push(q.agent);
  }
  if (q.approverKeyId !== undefined) {
    where.push('r.approver_key_id = ?');
    params.push(q.approverKeyId);
  }
  if (q.id !== undefined) {
    where.push(ID_MATCH);
    params.push(q.id, q.id, q.id, q.id);
  }
  if (q.hash !== undefined) {
    where.push(HASH_MATCH);
    params.push(q.hash, q.hash, q.hash, q.hash);
  }
  // Stored times are toISOString() text, so normalising the bounds makes text order time order.
  if (q.from !== undefined) {
    where.push('r.time >= ?');
    params.push(new Date(q.from).toISOString());
  }
  if (q.to !== undefined) {
    where.push('r.time <= ?');
    params.push(new Date(q.to).toISOString());
  }
  return match !== null
    ? { from: 'receipts_fts f JOIN receipts r ON r.seq = f.rowid', order: 'f.rowid', where, params }
    : { from: 'receipts r', order: 'r.seq', where, params };
}

const whereSql = (where: readonly string[]) => (where.length ? `WHERE ${where.join(' AND ')}` : '');

/**
 * Every match of the query. Unfiltered, the newest seq is the exact count (seq is gapless);
 * filtered, matches are counted up to the cap, so a common word never scans a million rows.
 */
function countReceipts(db: SqliteDatabase, c: Conditions): ReceiptTotal {
  if (c.where.length === 0) {
    return { count: db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number, exact: true };
  }
  const sql = `SELECT count(*) FROM (SELECT 1 FROM ${c.from} ${whereSql(c.where)} LIMIT ?)`;
  const count = db
    .prepare(sql)
    .pluck()
    .get(...c.params, RECEIPT_COUNT_CAP + 1) as number;
  return count > RECEIPT_COUNT_CAP ? { count: RECEIPT_COUNT_CAP, exact: false } : { count, exact: true };
}

/** Newest first, keyset-paginated on `seq`; full text via the contentless FTS5 index. */
export function searchReceipts(db: SqliteDatabase, q: ReceiptQuery): ReceiptPage {
  const limit = q.limit ?? DEFAULT_PAGE;
  const c = conditions(q);
  // The index trails the ledger by up to a moment (search-index.ts): bring it level first.
  if (c.from.startsWith('receipts_fts')) searchIndexOf(db).catchUp();
  const where = [...c.where];
  const params = [...c.params];
  if (q.beforeSeq !== undefined) {
    where.push(`${c.order} < ?`);
    params.push(q.beforeSeq);
  }
  const columns = STORED_RECEIPT_COLUMNS.split(', ')
    .map((col) => `r.${col}`)
    .join(', ');
  const sql = `SELECT ${columns} FROM ${c.from} ${whereSql(where)} ORDER BY ${c.order} DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...params, limit + 1) as StoredReceiptRow[];
  const more = rows.length > limit;
  const bodies = new ReceiptBodies(db);
  const items = rows.slice(0, limit).map((row) => receiptFromRow(rowFromStored(row), bodies.of(row.seq)));
  const page: ReceiptPage = { items, nextBeforeSeq: more && items.length > 0 ? items[items.length - 1]!.seq : null };
  if (q.count) page.total = countReceipts(db, c);
  return page;
}

/**
 * The count alone, with the newest seq it covers. One synchronous read on the connection every
 * write goes through, so no receipt commits between the two: the count is of #1…throughSeq.
 */
export function countReceiptsThrough(db: SqliteDatabase, q: ReceiptCountQuery): ReceiptCountDto {
  const c = conditions(q);
  if (c.from.startsWith('receipts_fts')) searchIndexOf(db).catchUp();
  const throughSeq = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number;
  return { ...countReceipts(db, c), throughSeq };
}

export function receiptWithNeighbours(db: SqliteDatabase, seq: number): ReceiptWithNeighboursDto | null {
  const rows = db
    .prepare(`SELECT ${STORED_RECEIPT_COLUMNS} FROM receipts WHERE seq BETWEEN ? AND ? ORDER BY seq`)
    .all(seq - 1, seq + 1) as StoredReceiptRow[];
  const bodies = new ReceiptBodies(db);
  const at = (s: number) => {
    const row = rows.find((r) => r.seq === s);
    return row ? receiptFromRow(rowFromStored(row), bodies.of(row.seq)) : null;
  };
  const receipt = at(seq);
  return receipt ? { receipt, previous: at(seq - 1), next: at(seq + 1) } : null;
}
