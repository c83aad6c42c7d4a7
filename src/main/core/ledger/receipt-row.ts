import type { ReceiptDto, ReceiptEvent } from '../../../shared/console-dto.ts';
import type { ReceiptBodyDto } from '../../../shared/receipt-bodies.ts';

/** A receipts table row, as stored. */
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

export const RECEIPT_COLUMNS =
  'seq, event, time, action, hash, prev_hash, body, signature, reason, exec_id, proposal_id, approval_id, approver_key_id, request_hash, grant_id';

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
