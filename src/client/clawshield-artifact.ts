import { createPrivateKey, randomUUID, sign, type KeyObject } from 'node:crypto';
import { requestHash } from '../main/core/json/request-hash.ts';
import { parseJson } from '../main/core/json/parse.ts';
import type { JsonObject } from '../main/core/json/json-value.ts';
import type { ApprovalArtifact } from './openexec-client.ts';

export interface ArtifactInput {
  /** The approver's Ed25519 private key (a KeyObject or PKCS#8 PEM). */
  privateKey: KeyObject | string;
  action: string;
  payload?: Record<string, unknown>;
  tenantId: string;
  approvalId?: string;
  /** Default: now. */
  issuedAt?: Date;
  /** Default: 5 minutes. */
  ttlSeconds?: number;
}

/**
 * The protocol §1 hash of `{action, payload}` exactly as OpenExec will compute it from the body
 * this client sends (`JSON.stringify`, parsed losslessly: whole numbers are integers).
 */
export function actionHash(action: string, payload: Record<string, unknown> = {}): string {
  return requestHash(action, parseJson(JSON.stringify(payload)) as JsonObject);
}

/**
 * A ClawShield-v1 approval artifact (protocol §2) for exactly this request: the approver signs
 * `approval_id + tenant_id + action_hash + issued_at + expires_at` with Ed25519. OpenExec
 * accepts it once, if the key is its CLAWSHIELD_PUBLIC_KEY, for the tenant it is configured for.
 */
export function clawshieldArtifact(input: ArtifactInput): ApprovalArtifact {
  const key = typeof input.privateKey === 'string' ? createPrivateKey(input.privateKey) : input.privateKey;
  const issued = input.issuedAt ?? new Date();
  const fields = {
    approval_id: input.approvalId ?? randomUUID(),
    tenant_id: input.tenantId,
    action_hash: actionHash(input.action, input.payload),
    issued_at: issued.toISOString(),
    expires_at: new Date(issued.getTime() + (input.ttlSeconds ?? 300) * 1000).toISOString(),
  };
  const message = Buffer.from(fields.approval_id + fields.tenant_id + fields.action_hash + fields.issued_at + fields.expires_at, 'utf8');
  return { ...fields, signature: sign(null, message, key).toString('base64') };
}
