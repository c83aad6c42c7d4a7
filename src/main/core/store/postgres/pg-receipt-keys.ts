import { Ed25519Verifier, parsePublicKeyPem, publicKeyToPem, type Ed25519Signer } from '../../crypto/ed25519.ts';
import { isJsonObject, type JsonObject } from '../../json/json-value.ts';
import type { ReceiptDraft } from '../../ledger/receipt-body.ts';
import type { PgSession } from './pg-session.ts';

/** The `reason` of the `config` receipt that registers an instance's receipt key. */
export const REGISTRATION_REASON = 'receipt key registered';

/**
 * The `config` receipt an instance appends, signed by the key it registers, before its first
 * other receipt: `details.receipt_key` names the key and carries its public key, so a verifier
 * learns the ledger's keys from the ledger itself (docs/receipts.md).
 */
export function registrationDraft(signer: Ed25519Signer): ReceiptDraft {
  return {
    event: 'config',
    reason: `${REGISTRATION_REASON}: ${signer.keyId}`,
    details: { receipt_key: { key_id: signer.keyId, public_key_pem: publicKeyToPem(signer.publicKey) } },
  };
}

/**
 * The key a signed body registers: null when the body is not a registration, a problem (text)
 * when it claims to be one but its key is unusable or is not the key that signed it.
 */
export function registeredKey(body: JsonObject): Ed25519Verifier | null | string {
  const details = body['details'];
  if (body['event'] !== 'config' || !isJsonObject(details) || !('receipt_key' in details)) return null;
  const key = details['receipt_key'];
  if (!isJsonObject(key) || typeof key['key_id'] !== 'string' || typeof key['public_key_pem'] !== 'string') {
    return 'a key registration without key_id and public_key_pem';
  }
  let verifier: Ed25519Verifier;
  try {
    verifier = new Ed25519Verifier(parsePublicKeyPem(key['public_key_pem']));
  } catch (err) {
    return `a key registration whose public key is unusable (${(err as Error).message})`;
  }
  if (verifier.keyId !== key['key_id']) return `a key registration naming ${key['key_id']} for the key ${verifier.keyId}`;
  if (body['receipt_key_id'] !== verifier.keyId) {
    return `a registration of ${verifier.keyId} signed by another key (${String(body['receipt_key_id'])})`;
  }
  if (body['reason'] !== `${REGISTRATION_REASON}: ${verifier.keyId}`) return `a registration of ${verifier.keyId} with another reason`;
  return verifier;
}

/** Where the ledger registered `keyId`, per the store's index of registrations (null: not yet). */
export async function registrationSeq(client: PgSession, keyId: string): Promise<number | null> {
  const { rows } = await client.query<{ seq: string }>('SELECT seq FROM receipt_keys WHERE key_id = $1', [keyId]);
  return rows[0] === undefined ? null : Number(rows[0].seq);
}

export async function recordRegistration(client: PgSession, signer: Ed25519Signer, seq: number): Promise<void> {
  await client.query('INSERT INTO receipt_keys (key_id, public_key_pem, seq) VALUES ($1, $2, $3)', [
    signer.keyId,
    publicKeyToPem(signer.publicKey),
    seq,
  ]);
}
