import { randomUUID } from 'node:crypto';
import { approvalMessage, type ApprovalArtifact } from '../approval/approval-artifact.ts';
import { isoUtc, type Clock } from '../clock.ts';
import type { Ed25519Signer } from '../crypto/ed25519.ts';

/** How long an operator's artifact lives: it is consumed at once, so a minute is ample. */
const OPERATOR_APPROVAL_LIFETIME_MS = 60_000;

/**
 * A ClawShield-v1 artifact (protocol §2) for exactly one request, signed with the operator's own
 * key. It then goes through the same validation as any external artifact.
 */
export function mintOperatorApproval(
  core: { clock: Clock; operatorSigner: Ed25519Signer },
  requestHash: string,
  tenantId: string | null,
  signer: Ed25519Signer = core.operatorSigner,
): { artifact: ApprovalArtifact & { expires_at: string }; keyId: string } {
  const now = core.clock.now();
  const fields = {
    approval_id: randomUUID(),
    tenant_id: tenantId ?? 'local-operator',
    action_hash: requestHash,
    issued_at: isoUtc(now),
    expires_at: isoUtc(now + OPERATOR_APPROVAL_LIFETIME_MS),
  };
  const signature = Buffer.from(signer.sign(approvalMessage(fields))).toString('base64');
  return { artifact: { ...fields, signature }, keyId: signer.keyId };
}
