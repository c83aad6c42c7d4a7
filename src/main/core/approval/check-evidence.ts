import type { Ed25519Verifier } from '../crypto/ed25519.ts';
import { approvalEvidence } from '../../../shared/approval-evidence.ts';

/** Approver keys a verdict trusts, by key id. */
export type ApproverKeys = ReadonlyMap<string, Ed25519Verifier>;

export function approverKeyMap(verifiers: readonly (Ed25519Verifier | null)[]): ApproverKeys {
  return new Map(verifiers.filter((v): v is Ed25519Verifier => v !== null).map((v) => [v.keyId, v]));
}

/**
 * What is wrong with the approval evidence in one receipt body, or null: the artifact must be
 * the receipt's own approval, and its signature must verify with a trusted approver key.
 * With no approver keys (null) only the evidence's form is checked. A receipt that names an approval without evidence is not wrong (older receipts, and an
 * execution closed after a restart, have none); `absent` lets callers count them.
 */
export function evidenceProblem(
  body: Record<string, unknown>,
  approvers: ApproverKeys | null,
): { problem: string | null; absent: boolean } {
  const evidence = approvalEvidence(body);
  switch (evidence.kind) {
    case 'none':
      return { problem: null, absent: false };
    case 'absent':
      return { problem: null, absent: true };
    case 'malformed':
      return { problem: evidence.problem, absent: false };
    case 'signed': {
      if (approvers === null) return { problem: null, absent: false };
      const key = approvers.get(evidence.keyId);
      if (!key)
        return {
          problem: `approval ${evidence.approvalId} is signed by key ${evidence.keyId}, not a trusted approver key (configure it: CLAWSHIELD_PUBLIC_KEY or --approver-key)`,
          absent: false,
        };
      return key.verify(evidence.message, evidence.signature)
        ? { problem: null, absent: false }
        : { problem: `approval ${evidence.approvalId}: the signature does not verify with approver key ${evidence.keyId}`, absent: false };
    }
  }
}
