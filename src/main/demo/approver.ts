import { generateKeyPairSync } from 'node:crypto';
import { clawshieldArtifact, type ApprovalArtifact } from '../../client/index.ts';

/** Artifacts this stand-in signs live long enough for any step, and no longer. */
const LIFETIME_SECONDS = 5 * 60;
export const DEMO_TENANT = 'openexec-demo';

/**
 * The demo's stand-in for an external ClawShield approver: a key made for this run only and
 * given to the server as CLAWSHIELD_PUBLIC_KEY. It signs protocol §2 artifacts for exactly the
 * request it is shown, with the client library's `clawshieldArtifact` (what an approver
 * integration would call).
 */
export class DemoApprover {
  private readonly keys = generateKeyPairSync('ed25519');

  get publicKeyPem(): string {
    return this.keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  }

  approve(action: string, payload: Record<string, unknown>): ApprovalArtifact {
    return clawshieldArtifact({
      privateKey: this.keys.privateKey,
      action,
      payload,
      tenantId: DEMO_TENANT,
      // A second back, so a server clock a hair behind ours still sees it issued.
      issuedAt: new Date(Date.now() - 1000),
      ttlSeconds: LIFETIME_SECONDS,
    });
  }
}
