import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenExecConfig } from '../app/config.ts';
import { Ed25519Signer, Ed25519Verifier, parsePublicKeyPem, KeyFormatError } from '../core/crypto/ed25519.ts';
import { RECEIPT_KEY_FILE } from '../core/openexec-core.ts';
import { verifyChain } from '../core/ledger/verify-ledger.ts';
import { CliError, type CliOutput } from './cli-error.ts';

/**
 * Walks the whole chain offline, read-only, straight from the database file: it works
 * whether or not a server is running, and does not trust the server's word.
 */
export function verifyLedgerCommand(config: OpenExecConfig, publicKeyFile: string | undefined, out: CliOutput): number {
  let publicKey: Uint8Array;
  try {
    publicKey = publicKeyFile
      ? parsePublicKeyPem(readFileSync(publicKeyFile, 'utf8'))
      : Ed25519Signer.fromPkcs8Pem(readFileSync(join(config.dataDir, RECEIPT_KEY_FILE), 'utf8')).publicKey;
  } catch (err) {
    if (err instanceof KeyFormatError) throw new CliError(`${publicKeyFile}: ${err.message}`);
    const file = publicKeyFile ?? join(config.dataDir, RECEIPT_KEY_FILE);
    throw new CliError(`cannot read the receipt key ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!existsSync(config.dbPath)) throw new CliError(`no ledger at ${config.dbPath}`);
  const db = new Database(config.dbPath, { readonly: true, fileMustExist: true });
  try {
    const result = verifyChain(db, new Ed25519Verifier(publicKey));
    if (out.json) out.printJson(result);
    else if (result.valid) out.print(`ledger valid: ${result.checked} receipts, hash chain and signatures hold`);
    else out.print(`ledger INVALID at receipt ${result.firstBadSeq}: ${result.problem} (${result.checked} receipts before it hold)`);
    return result.valid ? 0 : 3;
  } finally {
    db.close();
  }
}
