import { z } from 'zod';

/**
 * The ClawShield v1 artifact (protocol §2). `expires_at` may be missing on the wire: the
 * contract answers that with its own 403 text rather than a shape error. Unknown fields
 * (older clients send `issued_by`) are ignored, as the Python service ignored them.
 */
export const approvalArtifactSchema = z.looseObject({
  approval_id: z.string().min(1).max(200),
  tenant_id: z.string().max(200),
  action_hash: z.string().max(200),
  issued_at: z.string().max(100),
  expires_at: z.string().max(100).nullish(),
  signature: z.string().max(1000),
});
export type ApprovalArtifact = z.infer<typeof approvalArtifactSchema>;

/** The exact bytes a ClawShield approver signs. */
export function approvalMessage(a: {
  approval_id: string;
  tenant_id: string;
  action_hash: string;
  issued_at: string;
  expires_at: string;
}): Uint8Array {
  return Buffer.from(a.approval_id + a.tenant_id + a.action_hash + a.issued_at + a.expires_at, 'utf8');
}
