import type { OpenExecConfig } from '../app/config.ts';
import { readCheckpointNote } from '../core/ledger/checkpoint/checkpoint-note.ts';
import type { CheckpointVerdict, SavedCheckpoint } from '../core/ledger/checkpoint/compare-checkpoints.ts';
import { verifyRegisteredCheckpoint } from '../core/store/postgres/pg-checkpoints.ts';
import type { LedgerKey } from '../core/store/postgres/pg-ledger-keys.ts';
import { PostgresStoreError } from '../core/store/postgres/pg-pool.ts';
import { verifyPostgresLedger, type PostgresLedgerVerdict } from '../core/store/postgres/pg-verify-ledger.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { checkedNote, readCheckpointNotes } from './proof-commands.ts';
import { ledgerApproverKeys } from './receipt-key.ts';
import { headProblemOf, parseHead, printVerdictTail, type VerifyLedgerOptions } from './verify-ledger-command.ts';

const KEY_ID = /^[0-9a-f]{16}$/;

/** `trusted receipt keys registered in the ledger: …`: how the verdict names the keys it accepted. */
function describeKeys(keys: readonly LedgerKey[], server: string): string {
  if (keys.length === 0) return `trusted no receipt key: the ledger at ${server} registers none`;
  const each = keys.map((k) => `${k.keyId} (registered by receipt ${k.seq}${k.pinned ? ', pinned by --key-id' : ''})`);
  return `trusted receipt keys registered in the ledger at ${server}: ${each.join(', ')}`;
}

/**
 * The saved checkpoints, each signed by a key the ledger registered within the receipts it
 * covers; a note that is not is the checkpoints' verdict (exit 3), like a ledger that parts from one.
 */
function checkpointSignatures(saved: readonly (SavedCheckpoint & { note: string })[], keys: readonly LedgerKey[]): string | null {
  for (const c of saved) {
    try {
      verifyRegisteredCheckpoint(c.note, keys);
    } catch (err) {
      return `${c.source}: ${(err as Error).message}`;
    }
  }
  return null;
}

/**
 * `verify-ledger --db-url postgresql://…` (or OPENEXEC_DB_URL): the same verdict, output and
 * exit codes as on SQLite, over a ledger several instances write, each with its own receipt
 * key registered in it. `--key-id` pins one instance's key and is given once per instance.
 */
export async function verifyPgLedgerCommand(config: OpenExecConfig, options: VerifyLedgerOptions, out: CliOutput): Promise<number> {
  const url = options.dbUrl!;
  if (options.publicKeyFile !== undefined) {
    throw new CliError(
      "--public-key does not apply to a PostgreSQL ledger, which registers each instance's key: pin them with --key-id ID, once per instance",
      2,
    );
  }
  const pins = options.keyIds;
  for (const id of pins ?? []) if (!KEY_ID.test(id)) throw new CliError(`--key-id must be 16 lowercase hex digits, got '${id}'`, 2);
  const head = options.expectHead === undefined ? null : parseHead(options.expectHead);
  const approvers = ledgerApproverKeys(config, options.approverKeyFiles);
  const saved = (options.checkpoint === undefined ? [] : readCheckpointNotes(options.checkpoint)).map(({ file, note }) => {
    const c = checkedNote(file, () => readCheckpointNote(note));
    return { size: c.size, root: c.root, source: file, note };
  });
  let verdict: PostgresLedgerVerdict;
  try {
    verdict = await verifyPostgresLedger(url, {
      pinnedKeyIds: pins,
      approvers: approvers.keys,
      saved,
      expectHeadSeq: head?.seq,
      workers: options.workers,
    });
  } catch (err) {
    // Its message names the server as user@host:port/database, never the password.
    if (err instanceof PostgresStoreError) throw new CliError(err.message);
    throw err;
  }
  const { chain, merkle } = verdict;
  const signatureProblem = checkpointSignatures(saved, chain.keys);
  const checkpoints: CheckpointVerdict | null =
    verdict.checkpoints && signatureProblem !== null
      ? { ...verdict.checkpoints, ok: false, agreesWith: null, partsFrom: null, problem: signatureProblem }
      : verdict.checkpoints;
  const headProblem = head === null ? null : headProblemOf(head, verdict.headHash ?? null);
  const valid =
    chain.valid &&
    merkle.valid &&
    verdict.stored.problem === null &&
    verdict.sideTableProblems.length === 0 &&
    (checkpoints?.ok ?? true) &&
    headProblem === null;
  const absent = (pins ?? []).filter((id) => !chain.keys.some((k) => k.keyId === id));
  if (out.json) {
    out.printJson({
      valid,
      checked: chain.checked,
      firstBadSeq: chain.firstBadSeq,
      problem: chain.problem,
      approvalsWithoutEvidence: verdict.approvalsWithoutEvidence,
      chainValid: chain.valid,
      server: verdict.server,
      trustedKeys: chain.keys,
      pinnedButNotRegistered: absent,
      merkle,
      storedCheckpoints: verdict.stored,
      approverKeys: approvers.sources,
      sideTableProblems: verdict.sideTableProblems,
      checkpoints,
      expectedHead: head === null ? null : { ...head, ok: headProblem === null, problem: headProblem },
    });
    return valid ? 0 : 3;
  }
  out.print(describeKeys(chain.keys, verdict.server));
  if (pins === undefined && chain.keys.length > 0) {
    out.print(
      `note: nothing pinned these keys; whoever can insert receipts can register a key of their own — pass --key-id ID for each instance whose id you hold`,
    );
  }
  if (absent.length > 0) out.print(`note: the ledger registers no key ${absent.join(', ')} (pinned by --key-id)`);
  if (chain.valid) out.print(`ledger valid: ${chain.checked} receipts, hash chain and signatures hold`);
  else out.print(`ledger INVALID at receipt ${chain.firstBadSeq}: ${chain.problem} (${chain.checked} receipts before it hold)`);
  if (merkle.valid) out.print(`merkle tree: the ${merkle.nodes} stored nodes are the receipts' own`);
  else out.print(`merkle tree INVALID: ${merkle.problem}`);
  if (verdict.stored.problem !== null) out.print(`stored checkpoints INVALID: ${verdict.stored.problem}`);
  else if (verdict.stored.count > 0) {
    out.print(`stored checkpoints: all ${verdict.stored.count} are signed by registered keys, and the ledger extends them`);
  }
  printVerdictTail(out, {
    withoutEvidence: verdict.approvalsWithoutEvidence,
    approverSources: approvers.sources,
    sideTables: verdict.sideTableProblems,
    checkpoints,
    savedCount: saved.length,
    head,
    headProblem,
  });
  return valid ? 0 : 3;
}
