import { publicKeyToPem, type Ed25519Verifier } from '../../crypto/ed25519.ts';
import type { JsonObject } from '../../json/json-value.ts';
import { registeredKey } from './pg-receipt-keys.ts';

/** A receipt key the ledger registered, and whether the reviewer pinned it. */
export interface LedgerKey {
  keyId: string;
  /** The `config` receipt that registered it. */
  seq: number;
  pinned: boolean;
  publicKeyPem: string;
}

/** What a receipt is checked with: the key it must be signed by, and the key it registers (if any). */
export interface ReceiptSigner {
  verifier: Ed25519Verifier;
  registers: Ed25519Verifier | null;
}

/**
 * The receipt keys a verifier accepts, learnt from the ledger in chain order: each from its
 * registration (a `config` receipt signed by the key it registers, pg-receipt-keys.ts) on.
 * With pins (the key ids a reviewer holds out of band), a registration of any other key is refused.
 */
export class LedgerKeys {
  private readonly pins: ReadonlySet<string> | null;
  private readonly registered = new Map<string, { verifier: Ed25519Verifier; seq: number }>();

  constructor(pinnedKeyIds?: readonly string[]) {
    this.pins = pinnedKeyIds === undefined ? null : new Set(pinnedKeyIds);
  }

  /** The key a receipt (its parsed body) must be signed by, or the problem that refuses it. */
  signerOf(body: JsonObject): ReceiptSigner | string {
    const registering = registeredKey(body);
    if (typeof registering === 'string') return registering;
    if (registering !== null) {
      const { keyId } = registering;
      const earlier = this.registered.get(keyId);
      if (earlier !== undefined) return `receipt key ${keyId} is registered twice (first at ${earlier.seq})`;
      if (this.pins !== null && !this.pins.has(keyId)) return `registers receipt key ${keyId}, which is not pinned`;
      return { verifier: registering, registers: registering };
    }
    const keyId = typeof body['receipt_key_id'] === 'string' ? body['receipt_key_id'] : null;
    const known = keyId === null ? undefined : this.registered.get(keyId);
    if (known === undefined) return `signed by a receipt key that is not registered (${keyId ?? 'none named'})`;
    return { verifier: known.verifier, registers: null };
  }

  /** Records a registration once its receipt has verified. */
  accept(signer: ReceiptSigner, seq: number): void {
    if (signer.registers !== null) this.registered.set(signer.registers.keyId, { verifier: signer.registers, seq });
  }

  /** The public keys (PEM) of these registered keys, each once. */
  publicKeys(keyIds: readonly string[]): [keyId: string, publicKeyPem: string][] {
    return [...new Set(keyIds)].map((id) => [id, publicKeyToPem(this.registered.get(id)!.verifier.publicKey)]);
  }

  /** The keys registered so far (before receipt `beforeSeq`, when given), in registration order. */
  list(beforeSeq = Infinity): LedgerKey[] {
    return [...this.registered]
      .filter(([, { seq }]) => seq < beforeSeq)
      .map(([keyId, { verifier, seq }]) => ({
        keyId,
        seq,
        pinned: this.pins?.has(keyId) ?? false,
        publicKeyPem: publicKeyToPem(verifier.publicKey),
      }));
  }

  /** Pinned ids the ledger never registered (a reviewer's typo, or an instance that never wrote). */
  pinnedButAbsent(): string[] {
    return this.pins === null ? [] : [...this.pins].filter((id) => !this.registered.has(id));
  }
}
