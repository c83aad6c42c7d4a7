import { RECEIPT_COLUMNS, receiptFromRow, type ReceiptRow } from '../../ledger/receipt-row.ts';
import type { ReceiptDto } from '../../../../shared/console-dto.ts';
import { BODY_FIELDS, type ReceiptBodyDto } from '../../../../shared/receipt-bodies.ts';

/**
 * A receipts row as the driver returns it (bigint arrives as text), with the bodies it commits
 * to, kept or purged, gathered by the same query (null when it has none).
 */
export type PgReceiptRow = Omit<ReceiptRow, 'seq'> & { seq: string | number; bodies: ReceiptBodyDto[] | null };

/**
 * The columns of receipts `r` the console reads, its agent and its bodies. The bodies' subquery
 * runs only for the rows returned: PostgreSQL computes it after the sort and the limit.
 */
export const RECEIPT_WITH_BODIES = `${RECEIPT_COLUMNS.split(', ')
  .map((col) => `r.${col}`)
  .join(', ')}, r.agent,
  (SELECT json_agg(json_build_object('field', b.field, 'salt', encode(b.salt, 'hex'), 'text', b.body,
      'purgedAt', b.purged_at, 'purgeSeq', b.purge_seq))
    FROM receipt_bodies b WHERE b.seq = r.seq) AS bodies`;

/** Receipts as the SQLite ledger returns them: their agent, and their bodies in the order of BODY_FIELDS. */
export function receiptFromPgRow({ bodies, ...row }: PgReceiptRow): ReceiptDto {
  const ordered = (bodies ?? []).sort((a, b) => BODY_FIELDS.indexOf(a.field) - BODY_FIELDS.indexOf(b.field));
  return receiptFromRow({ ...row, seq: Number(row.seq) }, ordered);
}
