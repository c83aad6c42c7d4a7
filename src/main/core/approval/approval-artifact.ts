import { z } from 'zod';

/**
 * The ClawShield v1 artifact (protocol §2). Every field is a required string, as the Python model
 * declares them: a missing field, null or another type is a 422 shape error before any approval
 * check. An empty `expires_at` passes the shape and gets the contract's own 403 text ("Missing
 * expires_at in approval artifact"). The length limits are ours. Unknown fields (older clients
 * send `issued_by`) are ignored, as the Python service ignored them.
 */
export const approvalArtifactSchema = z.looseObject({
  approval_id: z.string().min(1).max(200),
  tenant_id: z.string().max(200),
  action_hash: z.string().max(200),
  issued_at: z.string().max(100),
  expires_at: z.string().max(100),
  signature: z.string().max(1000),
});
export type ApprovalArtifact = z.infer<typeof approvalArtifactSchema>;

/** The exact bytes a ClawShield approver signs (shared with the receipt evidence checks). */
export { approvalMessage } from '../../../shared/approval-evidence.ts';
