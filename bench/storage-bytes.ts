import type { SqliteDatabase } from '../src/main/core/store/database.ts';

/**
 * Where a receipt's bytes go on disk (SQLite's dbstat: every page of every table and index),
 * per receipt and beside the signed body's own size: the receipts table, its secondary
 * indexes, the full-text index, the Merkle nodes (together `receiptBytes`, the receipt's own
 * cost, `receiptOverBody` its ratio to the body), the payloads, contexts and results kept
 * beside the receipts for retention (`keptBodies`), and the whole file.
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
  const table = per(sum((n) => n === 'receipts'));
  const secondaryIndexes = per(sum((n) => indexOf.get(n) === 'receipts'));
  const fullText = per(sum((n) => n.startsWith('receipts_fts')));
  const merkle = per(sum((n) => n === 'merkle_nodes' || indexOf.get(n) === 'merkle_nodes'));
  const ratio = (bytes: number) => Math.round((bytes / body) * 100) / 100;
  const receiptBytes = table + secondaryIndexes + fullText + merkle;
  return {
    receipts: count,
    bodyBytes: Math.round(body),
    bytesPerReceipt: file,
    overBody: ratio(file),
    receiptBytes,
    receiptOverBody: ratio(receiptBytes),
    table,
    secondaryIndexes,
    perIndex: Object.fromEntries(pages.filter((p) => indexOf.get(p.name) === 'receipts').map((p) => [p.name, per(p.bytes)])),
    fullText,
    merkle,
    keptBodies: per(sum((n) => n === 'receipt_bodies' || indexOf.get(n) === 'receipt_bodies')),
  };
}
