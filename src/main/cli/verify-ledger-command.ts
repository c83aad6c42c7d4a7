import { existsSync } from 'node:fs';
import type { OpenExecConfig } from '../app/config.ts';
import { verifyChainParallel } from '../core/ledger/parallel/verify-parallel.ts';
import { LedgerReader } from '../core/ledger/ledger-reader.ts';
import type { CheckpointVerdict } from '../core/ledger/checkpoint/compare-checkpoints.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { describeKey, ledgerApproverKeys, trustedReceiptKey, unpinnedWarning } from './receipt-key.ts';
import { loadSavedCheckpoints } from './proof-commands.ts';

export interface VerifyLedgerOptions {
  /** A PostgreSQL ledger (`--db-url`, or OPENEXEC_DB_URL): verify-pg-ledger-command.ts. */
  dbUrl?: string | undefined;
  publicKeyFile?: string | undefined;
  /** The receipt key ids the reviewer pinned: any other key is refused (one on SQLite, one per instance on PostgreSQL). */
  keyIds?: string[] | undefined;
  /** A checkpoint note the reviewer saved, or a directory of them. */
  checkpoint?: string | undefined;
  /** `SEQ:HASH` of a receipt the reviewer recorded: the ledger must hold it at that place. */
  expectHead?: string | undefined;
  /** Approver public keys beyond the configured ones (ClawShield's, when not in the environment). */
  approverKeyFiles?: string[] | undefined;
  /** Threads that verify signatures (default: every core). */
  workers?: number | undefined;
}

export interface ExpectedHead {
  seq: number;
  hash: string;
}

export function parseHead(text: string): ExpectedHead {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text);
  if (!m || Number(m[1]) < 1)
    throw new CliError(`--expect-head must be SEQ:HASH (a receipt number and its 64 lowercase hex hash), got '${text}'`, 2);
  return { seq: Number(m[1]), hash: m[2]! };
}

/** What is wrong with the ledger's receipt at the recorded head (`found`: its hash there, null when it has none). */
export function headProblemOf(head: ExpectedHead, found: string | null): string | null {
  if (found === null) return `the ledger has no receipt ${head.seq}: receipts were removed from its end`;
  if (found !== head.hash) return `receipt ${head.seq} has hash ${found}, not the recorded ${head.hash}: the ledger was rewritten`;
  return null;
}

/** The lines after the chain's verdict, the same for every engine. */
export interface VerdictTail {
  withoutEvidence: number;
  approverSources: readonly string[];
  sideTables: readonly string[];
  /** Why the side tables were not checked, when they could not be (SQLite only). */
  sideTablesSkipped?: string | null;
  checkpoints: CheckpointVerdict | null;
  savedCount: number;
  head: ExpectedHead | null;
  headProblem: string | null;
}

export function printVerdictTail(out: CliOutput, t: VerdictTail): void {
  if (t.withoutEvidence > 0) {
    out.print(
      `note: ${t.withoutEvidence} receipts name an approval but keep no approval evidence (written before it was recorded, or closed after a restart)`,
    );
  }
  if (t.approverSources.length > 0) out.print(`approval evidence checked with: ${t.approverSources.join(', ')}`);
  for (const p of t.sideTables) out.print(`side tables INVALID: ${p}`);
  if (t.sideTablesSkipped) out.print(`side tables ${t.sideTablesSkipped}`);
  if (t.checkpoints?.ok) {
    out.print(
      `checkpoints: the ledger extends all ${t.savedCount} saved (the largest covers ${t.checkpoints.agreesWith?.size ?? 0} receipts)`,
    );
  } else if (t.checkpoints) out.print(`checkpoints INVALID: ${t.checkpoints.problem}`);
  if (t.head && t.headProblem === null) out.print(`head: receipt ${t.head.seq} is the recorded ${t.head.hash}`);
  else if (t.headProblem !== null) out.print(`head INVALID: ${t.headProblem}`);
}

/**
 * Walks the whole chain offline, read-only, straight from the database file (signatures
 * checked on every core): it works whether or not a server is running, and does not trust
 * the server's word. Then checks the
 * side tables against the receipts, the recorded head, and that the ledger extends every
 * saved checkpoint.
 */
export async function verifyLedgerCommand(config: OpenExecConfig, options: VerifyLedgerOptions, out: CliOutput): Promise<number> {
  if (options.dbUrl !== undefined) return (await import('./verify-pg-ledger-command.ts')).verifyPgLedgerCommand(config, options, out);
  const dbPath = config.dbPath;
  // postgresLedgerUrl gave this command OPENEXEC_DB_URL's PostgreSQL URL as dbUrl, so this is a SQLite ledger.
  if (dbPath === null) throw new CliError('verify-ledger of a PostgreSQL ledger takes --db-url', 2);
  const keyIds = options.keyIds ?? [];
  if (keyIds.length > 1) throw new CliError(`--key-id is given ${keyIds.length} times, but a SQLite ledger has one receipt key`, 2);
  const head = options.expectHead === undefined ? null : parseHead(options.expectHead);
  const key = trustedReceiptKey(config, options.publicKeyFile, keyIds[0]);
  const verifier = key.verifier;
  const approvers = ledgerApproverKeys(config, options.approverKeyFiles);
  const saved = options.checkpoint === undefined ? [] : loadSavedCheckpoints(options.checkpoint, verifier);
  if (!existsSync(dbPath)) throw new CliError(`no ledger at ${dbPath}`);
  let read: LedgerReader;
  try {
    read = LedgerReader.openReadOnly(dbPath);
  } catch (err) {
    throw new CliError(`cannot open the ledger ${dbPath}: ${(err as Error).message}`);
  }
  let chain;
  let sideTables: string[];
  let checkpoints: CheckpointVerdict | null;
  let headProblem: string | null = null;
  let withoutEvidence: number;
  let sideTablesSkipped: string | null = null;
  try {
    const lastSeq = read.size();
    const approverKeys = [...approvers.keys.values()].map((v) => v.publicKey);
    chain = await verifyChainParallel(dbPath, verifier.publicKey, lastSeq, { workers: options.workers, approverKeys });
    try {
      withoutEvidence = read.approvalsWithoutEvidence();
      sideTables = read.sideTableProblems();
    } catch (err) {
      // They compare columns read out of every body: one SQLite cannot parse makes that an
      // error, not a verdict (the walk above names that receipt, or an earlier one).
      const notJson = read.firstBodyNotJson();
      if (notJson === null) throw err;
      sideTablesSkipped = `not checked: they are compared with columns read out of the receipts' bodies, and receipt ${notJson}'s is not JSON`;
      withoutEvidence = 0;
      sideTables = [];
    }
    checkpoints = saved.length === 0 ? null : read.compareWithCheckpoints(saved);
    if (head) headProblem = headProblemOf(head, read.hashAt(head.seq));
  } catch (err) {
    throw new CliError(`cannot read the ledger ${dbPath}: ${(err as Error).message}`);
  } finally {
    read.close();
  }
  const valid = chain.valid && sideTables.length === 0 && (checkpoints?.ok ?? true) && headProblem === null;
  const trusted = { keyId: verifier.keyId, source: key.source };
  if (out.json) {
    out.printJson({
      ...chain,
      approvalsWithoutEvidence: withoutEvidence,
      valid,
      chainValid: chain.valid,
      trustedKey: trusted,
      approverKeys: approvers.sources,
      sideTableProblems: sideTables,
      sideTablesSkipped,
      checkpoints,
      expectedHead: head === null ? null : { ...head, ok: headProblem === null, problem: headProblem },
    });
    return valid ? 0 : 3;
  }
  out.print(`trusted ${describeKey(key)}`);
  const warning = unpinnedWarning(key);
  if (warning) out.print(warning);
  if (chain.valid) out.print(`ledger valid: ${chain.checked} receipts, hash chain and signatures hold`);
  else out.print(`ledger INVALID at receipt ${chain.firstBadSeq}: ${chain.problem} (${chain.checked} receipts before it hold)`);
  printVerdictTail(out, {
    withoutEvidence,
    approverSources: approvers.sources,
    sideTables,
    sideTablesSkipped,
    checkpoints,
    savedCount: saved.length,
    head,
    headProblem,
  });
  return valid ? 0 : 3;
}
