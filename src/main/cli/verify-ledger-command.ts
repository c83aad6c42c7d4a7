import { existsSync } from 'node:fs';
import type { OpenExecConfig } from '../app/config.ts';
import { verifyChainParallel } from '../core/ledger/parallel/verify-parallel.ts';
import { LedgerReader } from '../core/ledger/ledger-reader.ts';
import type { CheckpointVerdict } from '../core/ledger/checkpoint/compare-checkpoints.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { describeKey, ledgerApproverKeys, trustedReceiptKey, unpinnedWarning } from './receipt-key.ts';
import { loadSavedCheckpoints } from './proof-commands.ts';

export interface VerifyLedgerOptions {
  publicKeyFile?: string | undefined;
  /** The receipt key id the reviewer pinned: any other key is refused. */
  keyId?: string | undefined;
  /** A checkpoint note the reviewer saved, or a directory of them. */
  checkpoint?: string | undefined;
  /** `SEQ:HASH` of a receipt the reviewer recorded: the ledger must hold it at that place. */
  expectHead?: string | undefined;
  /** Approver public keys beyond the configured ones (ClawShield's, when not in the environment). */
  approverKeyFiles?: string[] | undefined;
  /** Threads that verify signatures (default: every core). */
  workers?: number | undefined;
}

interface ExpectedHead {
  seq: number;
  hash: string;
}

function parseHead(text: string): ExpectedHead {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text);
  if (!m || Number(m[1]) < 1)
    throw new CliError(`--expect-head must be SEQ:HASH (a receipt number and its 64 lowercase hex hash), got '${text}'`, 2);
  return { seq: Number(m[1]), hash: m[2]! };
}

/**
 * Walks the whole chain offline, read-only, straight from the database file (signatures
 * checked on every core): it works whether or not a server is running, and does not trust
 * the server's word. Then checks the
 * side tables against the receipts, the recorded head, and that the ledger extends every
 * saved checkpoint.
 */
export async function verifyLedgerCommand(config: OpenExecConfig, options: VerifyLedgerOptions, out: CliOutput): Promise<number> {
  const head = options.expectHead === undefined ? null : parseHead(options.expectHead);
  const key = trustedReceiptKey(config, options.publicKeyFile, options.keyId);
  const verifier = key.verifier;
  const approvers = ledgerApproverKeys(config, options.approverKeyFiles);
  const saved = options.checkpoint === undefined ? [] : loadSavedCheckpoints(options.checkpoint, verifier);
  if (!existsSync(config.dbPath)) throw new CliError(`no ledger at ${config.dbPath}`);
  let read: LedgerReader;
  try {
    read = LedgerReader.openReadOnly(config.dbPath);
  } catch (err) {
    throw new CliError(`cannot open the ledger ${config.dbPath}: ${(err as Error).message}`);
  }
  let chain;
  let sideTables: string[];
  let checkpoints: CheckpointVerdict | null;
  let headProblem: string | null = null;
  let withoutEvidence: number;
  try {
    const lastSeq = read.size();
    const approverKeys = [...approvers.keys.values()].map((v) => v.publicKey);
    chain = await verifyChainParallel(config.dbPath, verifier.publicKey, lastSeq, { workers: options.workers, approverKeys });
    withoutEvidence = read.approvalsWithoutEvidence();
    sideTables = read.sideTableProblems();
    checkpoints = saved.length === 0 ? null : read.compareWithCheckpoints(saved);
    if (head) {
      const found = read.hashAt(head.seq);
      if (found === null) headProblem = `the ledger has no receipt ${head.seq}: receipts were removed from its end`;
      else if (found !== head.hash)
        headProblem = `receipt ${head.seq} has hash ${found}, not the recorded ${head.hash}: the ledger was rewritten`;
    }
  } catch (err) {
    throw new CliError(`cannot read the ledger ${config.dbPath}: ${(err as Error).message}`);
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
  if (withoutEvidence > 0) {
    out.print(
      `note: ${withoutEvidence} receipts name an approval but keep no approval evidence (written before it was recorded, or closed after a restart)`,
    );
  }
  if (approvers.sources.length > 0) out.print(`approval evidence checked with: ${approvers.sources.join(', ')}`);
  for (const p of sideTables) out.print(`side tables INVALID: ${p}`);
  if (checkpoints?.ok) {
    out.print(
      `checkpoints: the ledger extends all ${saved.length} saved (the largest covers ${checkpoints.agreesWith?.size ?? 0} receipts)`,
    );
  } else if (checkpoints) out.print(`checkpoints INVALID: ${checkpoints.problem}`);
  if (head && headProblem === null) out.print(`head: receipt ${head.seq} is the recorded ${head.hash}`);
  else if (headProblem !== null) out.print(`head INVALID: ${headProblem}`);
  return valid ? 0 : 3;
}
