import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenExecConfig } from '../app/config.ts';
import { Ed25519Signer, Ed25519Verifier, parsePublicKeyPem } from '../core/crypto/ed25519.ts';
import { RECEIPT_KEY_FILE } from '../core/openexec-core.ts';
import { CliError } from './cli-error.ts';

/** The receipt key a verdict trusts: `--public-key FILE`, else the key file beside the ledger. */
export function trustedReceiptKey(config: OpenExecConfig, publicKeyFile: string | undefined): Ed25519Verifier {
  const file = publicKeyFile ?? join(config.dataDir, RECEIPT_KEY_FILE);
  try {
    const publicKey = publicKeyFile
      ? parsePublicKeyPem(readFileSync(publicKeyFile, 'utf8'))
      : Ed25519Signer.fromPkcs8Pem(readFileSync(file, 'utf8')).publicKey;
    return new Ed25519Verifier(publicKey);
  } catch (err) {
    const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw new CliError(`cannot use the receipt key ${file}: ${why}`);
  }
}
