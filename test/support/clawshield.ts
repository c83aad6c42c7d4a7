import { randomUUID } from 'node:crypto';
import { Ed25519Signer, publicKeyToPem } from '../../src/main/core/crypto/ed25519.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import { requestHash } from '../../src/main/core/json/request-hash.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';

/** A test stand-in for ClawShield: mints protocol §2 artifacts with a real Ed25519 key. */
export class TestApprover {
  readonly signer: Ed25519Signer;
  constructor(seed?: Uint8Array) {
    this.signer = seed ? Ed25519Signer.fromSeed(seed) : Ed25519Signer.generate();
  }

  get publicKeyPem(): string {
    return publicKeyToPem(this.signer.publicKey);
  }

  /** `payloadWire` is the JSON text the agent will send; the hash is taken from it. */
  mint(
    action: string,
    payloadWire: string,
    opts: { tenant?: string; issuedAt?: string; expiresAt?: string; approvalId?: string; actionHash?: string } = {},
  ) {
    const payload = parseJson(payloadWire) as JsonObject;
    const artifact = {
      approval_id: opts.approvalId ?? randomUUID(),
      tenant_id: opts.tenant ?? 'tenant-001',
      action_hash: opts.actionHash ?? requestHash(action, payload),
      issued_at: opts.issuedAt ?? new Date(Date.now() - 1000).toISOString().replace('Z', '000'),
      expires_at: opts.expiresAt ?? new Date(Date.now() + 300_000).toISOString().replace('Z', '000'),
      signature: '',
    };
    const message = artifact.approval_id + artifact.tenant_id + artifact.action_hash + artifact.issued_at + artifact.expires_at;
    artifact.signature = Buffer.from(this.signer.sign(Buffer.from(message, 'utf8'))).toString('base64');
    return artifact;
  }
}

/** An /execute body as raw text, so payloads with big integers or floats go out exactly. */
export function executeWire(action: string, payloadWire: string | null, nonce: string, artifact?: unknown): string {
  const parts = [`"action":${JSON.stringify(action)}`, `"nonce":${JSON.stringify(nonce)}`];
  if (payloadWire !== null) parts.push(`"payload":${payloadWire}`);
  if (artifact !== undefined) parts.push(`"approval_artifact":${JSON.stringify(artifact)}`);
  return `{${parts.join(',')}}`;
}
