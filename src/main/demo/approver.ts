import { randomUUID } from 'node:crypto';
import { Ed25519Signer, publicKeyToPem } from '../core/crypto/ed25519.ts';
import { approvalMessage } from '../core/approval/approval-artifact.ts';
import { requestHash } from '../core/json/request-hash.ts';
import { parseJson } from '../core/json/parse.ts';
import type { JsonObject } from '../core/json/json-value.ts';
import { isoUtc } from '../core/clock.ts';

/** Artifacts this stand-in signs live long enough for any step, and no longer. */
const LIFETIME_MS = 5 * 60_000;

/**
 * The demo's stand-in for an external ClawShield approver: a key made for this run only and
 * given to the server as CLAWSHIELD_PUBLIC_KEY. It signs protocol §2 artifacts for exactly the
 * request it is shown.
 */
export class DemoApprover {
  private readonly signer = Ed25519Signer.generate();

  get publicKeyPem(): string {
    return publicKeyToPem(this.signer.publicKey);
  }

  approve(action: string, payload: Record<string, unknown>): Record<string, string> {
    // The hash is taken over the payload exactly as the agent will send it (JSON text).
    const sent = parseJson(JSON.stringify(payload)) as JsonObject;
    const now = Date.now();
    const fields = {
      approval_id: randomUUID(),
      tenant_id: 'openexec-demo',
      action_hash: requestHash(action, sent),
      issued_at: isoUtc(now - 1000),
      expires_at: isoUtc(now + LIFETIME_MS),
    };
    return { ...fields, signature: Buffer.from(this.signer.sign(approvalMessage(fields))).toString('base64') };
  }
}
