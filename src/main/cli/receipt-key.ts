import { readRegularFile } from '../core/read-regular-file.ts';
import { join } from 'node:path';
import type { OpenExecConfig } from '../app/config.ts';
import { Ed25519Signer, Ed25519Verifier, parsePublicKeyPem } from '../core/crypto/ed25519.ts';
import { OPERATOR_KEY_FILE, RECEIPT_KEY_FILE } from '../core/openexec-core.ts';
import { approverKeyMap, type ApproverKeys } from '../core/approval/check-evidence.ts';
import { CliError } from './cli-error.ts';

/** A key a verdict trusts, and where it came from: every verdict names both. */
export interface TrustedKey {
  verifier: Ed25519Verifier;
  /** `--public-key FILE`, `bundle` or `key file beside the ledger FILE`, in words. */
  source: string;
  /** True when the reviewer chose it: `--public-key` or `--key-id`. */
  pinned?: boolean;
}

const firstLine = (err: unknown) => (err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err));

/**
 * A public key from a file: PEM, or the JSON `GET /receipts/public-key` answers
 * (`{"public_key_pem", "key_id"}`; a `key_id` that is not the key's own is refused).
 */
export function readPublicKeyFile(file: string): Ed25519Verifier {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    throw new CliError(`cannot read the public key ${file}: ${(err as NodeJS.ErrnoException).code ?? firstLine(err)}`);
  }
  try {
    if (!text.trimStart().startsWith('{')) return new Ed25519Verifier(parsePublicKeyPem(text));
    const json = JSON.parse(text) as { public_key_pem?: unknown; key_id?: unknown };
    if (typeof json.public_key_pem !== 'string') throw new Error('the JSON has no public_key_pem');
    const verifier = new Ed25519Verifier(parsePublicKeyPem(json.public_key_pem));
    if (json.key_id !== undefined && json.key_id !== verifier.keyId) {
      throw new Error(`its key_id ${String(json.key_id)} is not the key's own id ${verifier.keyId}`);
    }
    return verifier;
  } catch (err) {
    throw new CliError(`cannot use the public key ${file}: ${firstLine(err)}`);
  }
}

/** Refuses a key whose id is not the one the reviewer pinned with `--key-id`. */
export function pinned(key: TrustedKey, keyId: string | undefined): TrustedKey {
  if (keyId === undefined) return key;
  if (!/^[0-9a-f]{16}$/.test(keyId)) throw new CliError(`--key-id must be 16 lowercase hex digits, got '${keyId}'`, 2);
  if (key.verifier.keyId !== keyId) {
    throw new CliError(`the receipt key from ${key.source} has id ${key.verifier.keyId}, not the pinned --key-id ${keyId}`, 3);
  }
  return { ...key, source: `${key.source}, pinned by --key-id`, pinned: true };
}

/** `receipt key 0123456789abcdef (from --public-key k.pem)`: how every verdict names its key. */
export function describeKey(key: TrustedKey): string {
  return `receipt key ${key.verifier.keyId} (from ${key.source})`;
}

/** What a verdict adds when the key came from beside the evidence and nobody pinned it. */
export function unpinnedWarning(key: TrustedKey): string | null {
  return key.pinned
    ? null
    : `note: nothing pinned this key; whoever can change the evidence can usually change it too — pass --key-id ${key.verifier.keyId} if that is the id you hold`;
}

/**
 * The receipt key a ledger verdict trusts: `--public-key FILE`, else the key file beside the
 * ledger — which whoever can rewrite the database can usually replace too, hence `--key-id`.
 */
export function trustedReceiptKey(config: OpenExecConfig, publicKeyFile: string | undefined, keyId?: string): TrustedKey {
  if (publicKeyFile !== undefined)
    return pinned({ verifier: readPublicKeyFile(publicKeyFile), source: `--public-key ${publicKeyFile}`, pinned: true }, keyId);
  const file = join(config.dataDir, RECEIPT_KEY_FILE);
  let verifier: Ed25519Verifier;
  try {
    verifier = new Ed25519Verifier(Ed25519Signer.fromPkcs8Pem(readRegularFile(file)).publicKey);
  } catch (err) {
    throw new CliError(`cannot use the receipt key ${file}: ${firstLine(err)}`);
  }
  return pinned({ verifier, source: `the key file beside the ledger, ${file}` }, keyId);
}

/**
 * The approver keys a ledger's approval evidence is checked with: the configured
 * CLAWSHIELD_PUBLIC_KEY, the operator key in the data directory (when it is there), and any
 * `--approver-key FILE` the reviewer gives.
 */
export function ledgerApproverKeys(config: OpenExecConfig, files: readonly string[] = []): { keys: ApproverKeys; sources: string[] } {
  const verifiers: Ed25519Verifier[] = files.map(readPublicKeyFile);
  const sources: string[] = verifiers.map((v, i) => `${v.keyId} (--approver-key ${files[i]})`);
  if (config.clawshieldPublicKey) {
    const v = new Ed25519Verifier(config.clawshieldPublicKey);
    verifiers.push(v);
    sources.push(`clawshield ${v.keyId} (CLAWSHIELD_PUBLIC_KEY)`);
  }
  const file = join(config.dataDir, OPERATOR_KEY_FILE);
  let operatorPem: string | null = null;
  try {
    operatorPem = readRegularFile(file);
  } catch {
    // No operator key: operator approvals cannot be checked, and are reported as such.
  }
  if (operatorPem !== null) {
    try {
      const v = new Ed25519Verifier(Ed25519Signer.fromPkcs8Pem(operatorPem).publicKey);
      verifiers.push(v);
      sources.push(`operator ${v.keyId} (${file})`);
    } catch (err) {
      throw new CliError(`cannot use the operator key ${file}: ${firstLine(err)}`);
    }
  }
  return { keys: approverKeyMap(verifiers), sources };
}
