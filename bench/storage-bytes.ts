import type { SqliteDatabase } from '../src/main/core/store/database.ts';

/**
 * Where a receipt's bytes go on disk (SQLite's dbstat: every page of every table and index),
 * per receipt and beside the signed body's own size: the receipts table, its secondary
 * indexes, the full-text index, the Merkle nodes, and the whole file.
 */
export function storagePerReceipt(db: SqliteDatabase) {
  const count = db.prepare('SELECT count(*) FROM receipts').pluck().get() as number;
  const body = db.prepare('SELECT avg(length(CAST(body AS BLOB))) FROM receipts').pluck().get() as number;
  const pages = db.prepare('SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name').all() as { name: string; bytes: number }[];
  const indexOf = new Map(
    (db.prepare("SELECT name, tbl_name FROM sqlite_schema WHERE type = 'index'").all() as { name: string; tbl_name: string }[]).map((r) => [
      r.name,
      r.tbl_name,
    ]),
  );
  const sum = (pick: (name: string) => boolean) => pages.filter((p) => pick(p.name)).reduce((n, p) => n + p.bytes, 0);
  const per = (bytes: number) => Math.round(bytes / Math.max(1, count));
  const file = per(sum(() => true));
  return {
    receipts: count,
    bodyBytes: Math.round(body),
    bytesPerReceipt: file,
    overBody: Math.round((file / body) * 100) / 100,
    table: per(sum((n) => n === 'receipts')),
    secondaryIndexes: per(sum((n) => indexOf.get(n) === 'receipts')),
    fullText: per(sum((n) => n.startsWith('receipts_fts'))),
    merkle: per(sum((n) => n === 'merkle_nodes' || indexOf.get(n) === 'merkle_nodes')),
  };
}
