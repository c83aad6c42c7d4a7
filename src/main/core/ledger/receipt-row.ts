import type { ReceiptDto, ReceiptEvent } from '../../../shared/console-dto.ts';
import type { ReceiptBodyDto } from '../../../shared/receipt-bodies.ts';

/** A receipt's row: what the receipts table holds and derives (receipts-layout.ts), signature as base64. */
export interface ReceiptRow {
  seq: number;
  event: string;
  time: string;
  action: string | null;
  hash: string;
  prev_hash: string;
  body: string;
  signature: string;
  reason: string | null;
  exec_id: string | null;
  proposal_id: string | null;
  approval_id: string | null;
  approver_key_id: string | null;
  request_hash: string | null;
  grant_id: string | null;
}

/** A receipt's columns by name (PostgreSQL's receipts table has them all). */
export const RECEIPT_COLUMNS =
  'seq, event, time, action, hash, prev_hash, body, signature, reason, exec_id, proposal_id, approval_id, approver_key_id, request_hash, grant_id';

/** A row of SQLite's receipts table as selected with STORED_RECEIPT_COLUMNS: the signature as the 64 bytes it keeps. */
export type StoredReceiptRow = Omit<ReceiptRow, 'signature'> & { signature_bytes: Buffer; agent?: string | null };

/** The same columns from SQLite's receipts table (receipts-layout.ts), where the signature is kept as bytes. */
export const STORED_RECEIPT_COLUMNS = RECEIPT_COLUMNS.replace('signature', 'signature_bytes');

export function rowFromStored({ signature_bytes, ...row }: StoredReceiptRow): ReceiptRow & { agent?: string | null } {
  return { ...row, signature: signature_bytes.toString('base64') };
}

/** The receipt body's verified `agent`, selected beside the row's columns (receipts has no column of its own). */
export const RECEIPT_AGENT_COLUMN = "json_extract(body, '$.agent') AS agent";

export function receiptFromRow(row: ReceiptRow & { agent?: string | null }, bodies: ReceiptBodyDto[] = []): ReceiptDto {
  return {
    ...(bodies.length > 0 ? { bodies } : {}),
    seq: row.seq,
    event: row.event as ReceiptEvent,
    time: row.time,
    action: row.action,
    hash: row.hash,
    prevHash: row.prev_hash,
    body: row.body,
    signature: row.signature,
    reason: row.reason,
    execId: row.exec_id,
    proposalId: row.proposal_id,
    approvalId: row.approval_id,
    approverKeyId: row.approver_key_id,
    requestHash: row.request_hash,
    agent: row.agent ?? null,
  };
}
