import type { Ed25519Verifier } from '../crypto/ed25519.ts';
import { decodeSignatureBase64 } from '../crypto/ed25519.ts';
import type { ApprovalDto, ApproverKind } from '../../../shared/console-dto.ts';
import { approvalMessage, type ApprovalArtifact } from './approval-artifact.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { parseIsoTimestamp } from './iso-time.ts';

export interface TrustedApprover {
  kind: ApproverKind;
  verifier: Ed25519Verifier;
}

export interface ApprovalPolicy {
  /** Every key whose signature authorises an execution: ClawShield's and the operator's. */
  approvers: readonly TrustedApprover[];
  tenantId: string | null;
  /** How far ahead of our clock an `issued_at` may be (approvers' clocks drift). */
  clockSkewMs: number;
}

/**
 * What a valid artifact establishes: the identifying part of the console's ApprovalDto, and
 * the sha256 of the exact bytes that were signed. The signed message has no separators, so
 * characters can move between `approval_id` and `tenant_id` without breaking the signature:
 * single use must be keyed on this hash, not on `approval_id` alone.
 */
export type VerifiedApproval = Pick<
  ApprovalDto,
  'approvalId' | 'tenantId' | 'actionHash' | 'issuedAt' | 'expiresAt' | 'approver' | 'approverKeyId'
> & { messageHash: string };

export type ApprovalCheck = { ok: true; approval: VerifiedApproval } | { ok: false; detail: string };

const refuse = (detail: string): ApprovalCheck => ({ ok: false, detail });

/** An artifact that passed the checks before its signature: what the signature step needs. */
interface Unsigned {
  message: Uint8Array;
  /** Null when the signature is not strict base64 of 64 bytes. */
  signature: Uint8Array | null;
  expiresAt: string;
  expiresMs: number;
}

/** Finds which approver signed `message`: the index into `approvers`, or -1. */
export type SignerSearch = (message: Uint8Array, signature: Uint8Array, approvers: readonly TrustedApprover[]) => number | Promise<number>;

function searchHere(message: Uint8Array, signature: Uint8Array, approvers: readonly TrustedApprover[]): number {
  return approvers.findIndex((a) => a.verifier.verify(message, signature));
}

/** protocol §2's checks before the signature, in its order and with its texts. */
function beforeSignature(artifact: ApprovalArtifact, requestHash: string, nowMs: number): Unsigned | ApprovalCheck {
  if (artifact.action_hash !== requestHash) {
    return refuse('Action hash mismatch: approval does not match this request');
  }
  const expiresAt = artifact.expires_at;
  if (expiresAt === undefined || expiresAt === null || expiresAt === '') {
    return refuse('Missing expires_at in approval artifact');
  }
  const expiresMs = parseIsoTimestamp(expiresAt);
  if (expiresMs === null) return refuse('Invalid expires_at timestamp');
  if (nowMs >= expiresMs) return refuse('Approval artifact expired');
  const signature = decodeSignatureBase64(artifact.signature);
  return { message: approvalMessage({ ...artifact, expires_at: expiresAt }), signature, expiresAt, expiresMs };
}

/** The rest of protocol §2 once the signer (or none) is known, then the stronger rules. */
function afterSignature(
  artifact: ApprovalArtifact,
  unsigned: Unsigned,
  signer: TrustedApprover | undefined,
  policy: ApprovalPolicy,
  nowMs: number,
): ApprovalCheck {
  const { message, signature, expiresAt, expiresMs } = unsigned;
  if (signer === undefined) {
    // Operator approvals never come from outside, so without ClawShield's key an external
    // artifact gets the contract's step-3 answer.
    if (!policy.approvers.some((a) => a.kind === 'clawshield')) {
      return refuse('CLAWSHIELD_PUBLIC_KEY not configured');
    }
    return refuse(
      signature === null
        ? 'Invalid signature: signature is not strict base64 of 64 bytes'
        : 'Invalid signature: approval artifact is not authentic',
    );
  }
  if (policy.tenantId !== null && artifact.tenant_id !== policy.tenantId) {
    return refuse(`Tenant mismatch: expected ${policy.tenantId}, got ${artifact.tenant_id}`);
  }
  const issuedMs = parseIsoTimestamp(artifact.issued_at);
  if (issuedMs === null) return refuse('Invalid issued_at timestamp');
  if (issuedMs > nowMs + policy.clockSkewMs) return refuse('Approval issued in the future: issued_at is ahead of this clock');
  if (issuedMs > expiresMs) return refuse('Approval issued after it expires: issued_at is later than expires_at');
  return {
    ok: true,
    approval: {
      approvalId: artifact.approval_id,
      tenantId: artifact.tenant_id,
      actionHash: artifact.action_hash,
      issuedAt: artifact.issued_at,
      expiresAt,
      approver: signer.kind,
      approverKeyId: signer.verifier.keyId,
      messageHash: sha256Hex(message),
    },
  };
}

/**
 * protocol §2's checks, in its order and with its texts, then the stronger rules. Pure: the
 * single-use rule needs the ledger and is applied by the engine inside its transaction.
 */
export function validateApproval(artifact: ApprovalArtifact, requestHash: string, policy: ApprovalPolicy, nowMs: number): ApprovalCheck {
  const unsigned = beforeSignature(artifact, requestHash, nowMs);
  if (!('message' in unsigned)) return unsigned;
  const index = unsigned.signature === null ? -1 : searchHere(unsigned.message, unsigned.signature, policy.approvers);
  return afterSignature(artifact, unsigned, policy.approvers[index], policy, nowMs);
}

/**
 * The same checks with the signature search done by `search` (another thread): the verdict is
 * exactly validateApproval's.
 */
export async function validateApprovalWith(
  search: SignerSearch,
  artifact: ApprovalArtifact,
  requestHash: string,
  policy: ApprovalPolicy,
  nowMs: number,
): Promise<ApprovalCheck> {
  const unsigned = beforeSignature(artifact, requestHash, nowMs);
  if (!('message' in unsigned)) return unsigned;
  const index = unsigned.signature === null ? -1 : await search(unsigned.message, unsigned.signature, policy.approvers);
  return afterSignature(artifact, unsigned, policy.approvers[index], policy, nowMs);
}
