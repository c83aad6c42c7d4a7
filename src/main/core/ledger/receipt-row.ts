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

/** A row of SQLite's receipts table as selected with STORED_RECEIPT_COLUMNS: what it stores, and the hash as hex. */
export interface StoredReceiptRow {
  seq: number;
  hash: string;
  body: string;
  signature_bytes: Buffer;
}

/** What SQLite's receipts table stores (receipts-layout.ts); the rest of a row is the body's. */
export const STORED_RECEIPT_COLUMNS = 'seq, hash, body, signature_bytes';

/**
 * A receipt's row from what SQLite stores: the fields the columns used to copy are read from the
 * body in one parse here (cheaper than SQLite's generated columns, each of which parses it
 * again). A field that is absent, or a body that is not JSON, reads as null, as the columns do.
 */
export function rowFromStored(stored: StoredReceiptRow): ReceiptRow & { agent: string | null } {
  let body: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(stored.body);
    if (typeof parsed === 'object' && parsed !== null) body = parsed as Record<string, unknown>;
  } catch {
    // Not JSON: a tampered body, which verification reports; its fields read as null.
  }
  const field = (name: string) => {
    const value = body[name];
    return typeof value === 'string' ? value : null;
  };
  return {
    seq: stored.seq,
    hash: stored.hash,
    body: stored.body,
    signature: stored.signature_bytes.toString('base64'),
    event: field('event') ?? '',
    time: field('time') ?? '',
    action: field('action'),
    prev_hash: field('prev_hash') ?? '',
    reason: field('reason'),
    exec_id: field('exec_id'),
    proposal_id: field('proposal_id'),
    approval_id: field('approval_id'),
    approver_key_id: field('approver_key_id'),
    request_hash: field('request_hash'),
    grant_id: field('grant_id'),
    agent: field('agent'),
  };
}

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
