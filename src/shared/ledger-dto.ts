/**
 * The ledger's data shapes as they cross the process boundary: receipts and their pages,
 * counts and checks, checkpoints, inclusion proofs and export bundles. Part of the console
 * contract (console-dto.ts re-exports them, so the contract is imported from one place).
 */

import type { ReceiptBodyDto } from './receipt-bodies';

export const RECEIPT_EVENTS = [
  'executed',
  'refused',
  'replayed',
  'failed',
  'proposed',
  'approved',
  'denied',
  'expired',
  'config',
  'extended',
  'reported',
] as const;
export type ReceiptEvent = (typeof RECEIPT_EVENTS)[number];

export interface ReceiptDto {
  seq: number;
  event: ReceiptEvent;
  time: string;
  action: string | null;
  hash: string;
  prevHash: string;
  /** The exact canonical JSON text that was hashed and signed (docs/receipts.md). */
  body: string;
  /** Base64 Ed25519 signature over the UTF-8 bytes of `body`, by the receipt key. */
  signature: string;
  reason: string | null;
  execId: string | null;
  proposalId: string | null;
  approvalId: string | null;
  approverKeyId: string | null;
  requestHash: string | null;
  /** The verified agent the receipt names (its `agent` field), or null. */
  agent: string | null;
  /**
   * The bodies a receipt of format 2 commits to by salted hash (payload, context, preview,
   * result), kept or purged; absent for receipts that embed theirs (format 1) or carry none.
   */
  bodies?: ReceiptBodyDto[];
}

export interface ReceiptWithNeighboursDto {
  receipt: ReceiptDto;
  previous: ReceiptDto | null;
  next: ReceiptDto | null;
}

export interface ReceiptPage {
  items: ReceiptDto[];
  /** Pass as `beforeSeq` to get the next (older) page; null when there is none. */
  nextBeforeSeq: number | null;
  /**
   * Every match of the query, when asked for (`count: true`). Exact for an unfiltered query
   * (seq is gapless, so it is the newest seq); for a filtered one exact up to
   * RECEIPT_COUNT_CAP, beyond which it says "at least" (`exact: false`).
   */
  total?: ReceiptTotal;
}

export interface ReceiptTotal {
  count: number;
  exact: boolean;
}

/**
 * countReceipts' answer: the matches among receipts #1…`throughSeq`, the ledger as it stood
 * when they were counted. A receipt heard live later is counted by the caller only if its seq
 * is beyond `throughSeq`, so none is counted twice or missed.
 */
export interface ReceiptCountDto extends ReceiptTotal {
  throughSeq: number;
}

export const RECEIPT_COUNT_CAP = 10_000;

export interface ReceiptCheckDto {
  seq: number;
  hashValid: boolean;
  signatureValid: boolean;
  linkValid: boolean;
  inLedger: boolean;
  valid: boolean;
  problems: string[];
}

export interface ChainCheckDto {
  valid: boolean;
  checked: number;
  /** The first receipt whose hash, link, sequence or signature does not hold. */
  firstBadSeq: number | null;
  problem: string | null;
}

/** A signed checkpoint of the receipts' Merkle tree (C2SP tlog-checkpoint in a signed note). */
export interface CheckpointDto {
  origin: string;
  size: number;
  /** Lowercase hex of the RFC 9162 root of the first `size` receipts. */
  rootHash: string;
  createdAt: string;
  /** The note itself: what a reviewer saves, byte for byte. */
  note: string;
}

/** An export bundle, serialised once in the main process so every caller gets the same bytes. */
export interface ExportBundleDto {
  /** The bundle file's text (docs/receipts.md, "Export bundles"). */
  text: string;
  count: number;
  /** False when the query matched more than the export cap and only the newest were taken. */
  complete: boolean;
  /** The size of the signed checkpoint the bundle carries. */
  checkpointSize: number;
}

/** One chunk of a whole-ledger check, from `fromSeq` upwards. */
export interface ChainRangeDto {
  fromSeq: number;
  /** Receipts of this chunk that hold. */
  checked: number;
  /** Where the next chunk starts; null when this one reached the end or found a break. */
  nextSeq: number | null;
  /** The newest seq in the ledger when the chunk ran: the denominator of progress. */
  lastSeq: number;
  valid: boolean;
  firstBadSeq: number | null;
  problem: string | null;
}

/** A receipt's RFC 9162 audit path to the root a signed checkpoint commits to. */
export interface InclusionProofDto {
  checkpoint: CheckpointDto;
  leafIndex: number;
  treeSize: number;
  /** Hex of the receipt's hash: the leaf's entry. */
  receiptHash: string;
  /** Hex hashes, from the leaf upwards. */
  proof: string[];
  rootHash: string;
}

export interface KeyInfoDto {
  keyId: string;
  publicKeyPem: string;
}

export interface CheckpointStatusDto {
  latest: { size: number; rootHash: string; createdAt: string } | null;
  /** OPENEXEC_WITNESS_DIR, or null when checkpoints are not witnessed. */
  witnessDir: string | null;
  /** The largest checkpoint there that the receipt and operator keys both sign. */
  witnessed: { size: number; file: string } | null;
  /** Why the last copy to the witness directory failed, if it did. */
  witnessProblem: string | null;
}
