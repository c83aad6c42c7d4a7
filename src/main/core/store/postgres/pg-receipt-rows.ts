import type pg from 'pg';
import { bodyDto, type StoredBody } from '../../ledger/receipt-bodies.ts';
import { RECEIPT_COLUMNS, receiptFromRow, type ReceiptRow } from '../../ledger/receipt-row.ts';
import type { ReceiptDto } from '../../../../shared/console-dto.ts';
import { BODY_FIELDS, type ReceiptBodyDto } from '../../../../shared/receipt-bodies.ts';

/** A receipts row as the driver returns it: bigint arrives as text. */
export type PgReceiptRow = Omit<ReceiptRow, 'seq'> & { seq: string | number };

export const SELECT_RECEIPT = `SELECT ${RECEIPT_COLUMNS}, agent FROM receipts`;

type PgBodyRow = Omit<StoredBody, 'seq' | 'purge_seq'> & { seq: string; purge_seq: string | null };

/**
 * Receipts as the console reads them, each with the bodies it commits to, kept or purged (as
 * the SQLite ledger returns them), read in one query for the lot.
 */
export async function receiptsWithBodies(db: pg.Pool | pg.PoolClient, rows: readonly PgReceiptRow[]): Promise<ReceiptDto[]> {
  if (rows.length === 0) return [];
  const { rows: stored } = await db.query<PgBodyRow>(
    'SELECT seq, field, salt, body, purged_at, purge_seq FROM receipt_bodies WHERE seq = ANY($1::bigint[])',
    [rows.map((r) => r.seq)],
  );
  const bySeq = new Map<number, ReceiptBodyDto[]>();
  const ordered = stored.sort((a, b) => BODY_FIELDS.indexOf(a.field) - BODY_FIELDS.indexOf(b.field));
  for (const b of ordered) {
    const seq = Number(b.seq);
    const dto = bodyDto({ ...b, seq, purge_seq: b.purge_seq === null ? null : Number(b.purge_seq) });
    bySeq.set(seq, [...(bySeq.get(seq) ?? []), dto]);
  }
  return rows.map((row) => {
    const seq = Number(row.seq);
    return receiptFromRow({ ...row, seq }, bySeq.get(seq) ?? []);
  });
}
