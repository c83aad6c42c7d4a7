import Database from 'better-sqlite3';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OpenExecConfig } from '../app/config.ts';
import { Ed25519Signer, Ed25519Verifier, parsePublicKeyPem } from '../core/crypto/ed25519.ts';
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
    const file = publicKeyFile ?? join(config.dataDir, RECEIPT_KEY_FILE);
    const why = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
    throw new CliError(`cannot use the receipt key ${file}: ${why}`);
  }
  if (!existsSync(config.dbPath)) throw new CliError(`no ledger at ${config.dbPath}`);
  let db: Database.Database;
  let result;
  try {
    db = new Database(config.dbPath, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CliError(`cannot open the ledger ${config.dbPath}: ${(err as Error).message}`);
  }
  try {
    result = verifyChain(db, new Ed25519Verifier(publicKey));
  } catch (err) {
    throw new CliError(`cannot read the ledger ${config.dbPath}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  if (out.json) out.printJson(result);
  else if (result.valid) out.print(`ledger valid: ${result.checked} receipts, hash chain and signatures hold`);
  else out.print(`ledger INVALID at receipt ${result.firstBadSeq}: ${result.problem} (${result.checked} receipts before it hold)`);
  return result.valid ? 0 : 3;
}
