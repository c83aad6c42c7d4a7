import { z } from 'zod';

/**
 * Closing a retired instance's orphans (README, "PostgreSQL"): the executions an instance
 * reserved under its receipt key and left `started` when it went away for good. Only that
 * instance closes them by itself, when it starts again; once its key is gone, an operator at a
 * live instance closes them as interrupted (`openexec executions close-orphans`).
 */

/** A receipt key id: the first 16 hex digits of sha256 over the public key (src/main/core/crypto/ed25519.ts). */
export const RECEIPT_KEY_ID_PATTERN = /^[0-9a-f]{16}$/;

export const closeOrphansInput = z.strictObject({
  /** The retired instance's receipt key id, as `executions.reserved_by` and its receipts name it. */
  reservedBy: z.string().regex(RECEIPT_KEY_ID_PATTERN, '16 lowercase hex digits (a receipt key id)'),
});
export type CloseOrphansInput = z.infer<typeof closeOrphansInput>;

/** One execution closed as interrupted, with the receipt this instance signed for it. */
export interface ClosedOrphanDto {
  execId: string;
  nonce: string;
  action: string;
  /** When the retired instance reserved it. */
  createdAt: string;
  receiptSeq: number;
}

export interface ClosedOrphansDto {
  /** The retired key. */
  reservedBy: string;
  /** The `config` receipt that records the operator's action (written even when none was left). */
  configSeq: number;
  closed: ClosedOrphanDto[];
  /** Proposals those executions had claimed, now settled as failed. */
  proposalsSettled: number;
}
