import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import type { OpenExecConfig } from '../app/config.ts';
import { verifyChainParallel } from '../core/ledger/parallel/verify-parallel.ts';
import { sideTableProblems } from '../core/ledger/verify-side-tables.ts';
import { compareWithCheckpoints, type CheckpointVerdict } from '../core/ledger/checkpoint/compare-checkpoints.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { trustedReceiptKey } from './receipt-key.ts';
import { loadSavedCheckpoints } from './proof-commands.ts';

export interface VerifyLedgerOptions {
  publicKeyFile?: string | undefined;
  /** A checkpoint note the reviewer saved, or a directory of them. */
  checkpoint?: string | undefined;
  /** Threads that verify signatures (default: every core). */
  workers?: number | undefined;
}

/**
 * Walks the whole chain offline, read-only, straight from the database file: it works
 * whether or not a server is running, and does not trust the server's word. Then checks the
 * side tables against the receipts, and that the ledger extends every saved checkpoint.
 */
export async function verifyLedgerCommand(config: OpenExecConfig, options: VerifyLedgerOptions, out: CliOutput): Promise<number> {
  const verifier = trustedReceiptKey(config, options.publicKeyFile);
  const saved = options.checkpoint === undefined ? [] : loadSavedCheckpoints(options.checkpoint, verifier);
  if (!existsSync(config.dbPath)) throw new CliError(`no ledger at ${config.dbPath}`);
  let db: Database.Database;
  try {
    db = new Database(config.dbPath, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new CliError(`cannot open the ledger ${config.dbPath}: ${(err as Error).message}`);
  }
  let chain;
  let sideTables: string[];
  let checkpoints: CheckpointVerdict | null;
  try {
    const lastSeq = db.prepare('SELECT coalesce(max(seq), 0) FROM receipts').pluck().get() as number;
    chain = await verifyChainParallel(config.dbPath, verifier.publicKey, lastSeq, { workers: options.workers });
    sideTables = sideTableProblems(db);
    checkpoints = saved.length === 0 ? null : compareWithCheckpoints(db, saved);
  } catch (err) {
    throw new CliError(`cannot read the ledger ${config.dbPath}: ${(err as Error).message}`);
  } finally {
    db.close();
  }
  const valid = chain.valid && sideTables.length === 0 && (checkpoints?.ok ?? true);
  if (out.json) {
    out.printJson({ ...chain, valid, chainValid: chain.valid, sideTableProblems: sideTables, checkpoints });
    return valid ? 0 : 3;
  }
  if (chain.valid) out.print(`ledger valid: ${chain.checked} receipts, hash chain and signatures hold`);
  else out.print(`ledger INVALID at receipt ${chain.firstBadSeq}: ${chain.problem} (${chain.checked} receipts before it hold)`);
  for (const p of sideTables) out.print(`side tables INVALID: ${p}`);
  if (checkpoints?.ok) {
    out.print(`checkpoints: the ledger extends all ${saved.length} saved (the largest covers ${checkpoints.agreesWith?.size ?? 0} receipts)`);
  } else if (checkpoints) out.print(`checkpoints INVALID: ${checkpoints.problem}`);
  return valid ? 0 : 3;
}
