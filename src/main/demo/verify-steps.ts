import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Step } from './scenario.ts';
import { StepFailed, type DemoContext } from './demo-context.ts';
import { OPENEXEC_BIN } from './demo-server.ts';
import { runCommand, shownCommand, type CommandRun } from './demo-commands.ts';

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;

/** Shows a command as a reader would type it, runs it, and shows what it printed. */
function shown(ctx: DemoContext, shell: string, program: string, args: string[], env: Record<string, string> = {}): Promise<CommandRun> {
  return shownCommand(ctx.narrator, shell, program, args, env);
}

export async function verify(ctx: DemoContext, step: StepOf<'verify'>): Promise<void> {
  mkdirSync(ctx.evidenceDir, { recursive: true, mode: 0o700 });
  if (step.check === 'ledger') return verifyLedger(ctx);
  if (step.check === 'receipt') return verifyReceipt(ctx, step.of);
  return truncation(ctx, step.remove);
}

/** The demo approver's public key as a file: verify-ledger checks every approval's evidence against it. */
function approverKeyFile(ctx: DemoContext): string {
  const file = join(ctx.evidenceDir, 'approver-key.pem');
  writeFileSync(file, ctx.approver.publicKeyPem, { mode: 0o600 });
  return file;
}

async function verifyLedger(ctx: DemoContext): Promise<void> {
  const approver = approverKeyFile(ctx);
  const r = await shown(
    ctx,
    `OPENEXEC_DATA_DIR=${ctx.dataDir} openexec verify-ledger --approver-key ${approver}`,
    OPENEXEC_BIN,
    ['verify-ledger', '--approver-key', approver],
    { OPENEXEC_DATA_DIR: ctx.dataDir },
  );
  if (r.code !== 0) throw new StepFailed(`openexec verify-ledger exited ${r.code}`);
}

async function receiptKeyFile(ctx: DemoContext): Promise<string> {
  const pem = await ctx.agent.receiptPublicKeyPem().catch((err: Error) => {
    throw new StepFailed(`GET /receipts/public-key: ${err.message}`);
  });
  const file = join(ctx.evidenceDir, 'receipt-key.pem');
  writeFileSync(file, pem);
  return file;
}

/**
 * The operator's public key, for a copy of the ledger away from its data directory (where
 * verify-ledger would find the operator key itself): approvals and grants the console signed
 * are checked against it. Only the public half leaves the data directory.
 */
function operatorKeyFile(ctx: DemoContext): string {
  const file = join(ctx.evidenceDir, 'operator-public-key.pem');
  const key = createPublicKey(createPrivateKey(readFileSync(join(ctx.dataDir, 'operator-key.pem'))));
  writeFileSync(file, key.export({ type: 'spki', format: 'pem' }), { mode: 0o600 });
  return file;
}

async function verifyReceipt(ctx: DemoContext, of: string | undefined): Promise<void> {
  const n = ctx.narrator;
  const seqs = of === undefined ? undefined : ctx.receiptsOf.get(of);
  const seq = seqs?.at(-1) ?? (await ctx.operator.receiptsAfter(0)).at(-1)?.seq;
  if (seq === undefined) throw new StepFailed(of === undefined ? 'the ledger has no receipt' : `step '${of}' left no receipt`);
  const receipt = await ctx.operator.receipt(seq);
  const body = join(ctx.evidenceDir, `receipt-${seq}.json`);
  const sig = join(ctx.evidenceDir, `receipt-${seq}.sig`);
  writeFileSync(body, receipt.body);
  writeFileSync(sig, Buffer.from(receipt.signature, 'base64'));
  const key = await receiptKeyFile(ctx);
  n.line('check', `opens receipt #${seq} (${receipt.event}): its body is the exact canonical JSON that was hashed and signed`);
  n.output(receipt.body);
  const digest = createHash('sha256').update(receipt.body, 'utf8').digest('hex');
  n.line('check', `sha256 of the body = ${digest}`);
  if (digest !== receipt.hash) throw new StepFailed(`the body of receipt #${seq} hashes to ${digest}, not to its hash ${receipt.hash}`);
  n.line('check', `the receipt's own hash  = ${receipt.hash}: the same`);
  const args = ['pkeyutl', '-verify', '-pubin', '-inkey', key, '-rawin', '-in', body, '-sigfile', sig];
  const command = `openssl ${args.join(' ')}`;
  const version = await runCommand('openssl', ['version']);
  if (version.code !== 0 || !/^OpenSSL 3\./.test(version.output)) {
    n.line('check', `OpenSSL 3 is not here, so this check is skipped; run it where it is: ${command}`);
    return;
  }
  n.line(
    'check',
    `the Ed25519 signature, checked by ${version.output.trim().split(' (')[0]} with the receipt public key (GET /receipts/public-key):`,
  );
  const ok = await shown(ctx, command, 'openssl', args);
  if (ok.code !== 0) throw new StepFailed(`openssl did not verify receipt #${seq}: ${ok.output.trim().split('\n')[0]}`);
  const forged = join(ctx.evidenceDir, `receipt-${seq}-edited.json`);
  writeFileSync(forged, receipt.body.replace(`"seq":${seq}`, `"seq":${seq + 1000}`));
  n.line('check', 'and the same body with one number changed:');
  const bad = await shown(
    ctx,
    command.replace(body, forged),
    'openssl',
    args.map((a) => (a === body ? forged : a)),
  );
  if (bad.code === 0) throw new StepFailed('openssl verified an edited receipt body');
}

async function truncation(ctx: DemoContext, remove: number): Promise<void> {
  const n = ctx.narrator;
  const env = { OPENEXEC_DATA_DIR: ctx.dataDir };
  const checkpoint = join(ctx.evidenceDir, 'checkpoint.txt');
  const saved = await shown(ctx, `openexec checkpoint --out ${checkpoint}`, OPENEXEC_BIN, ['checkpoint', '--out', checkpoint], env);
  if (saved.code !== 0) throw new StepFailed(`openexec checkpoint exited ${saved.code}`);
  const copyDir = join(ctx.evidenceDir, 'truncated-copy');
  mkdirSync(copyDir, { mode: 0o700 });
  const copy = join(copyDir, 'openexec.db');
  const source = new Database(join(ctx.dataDir, 'openexec.db'), { readonly: true, fileMustExist: true });
  try {
    await source.backup(copy);
  } finally {
    source.close();
  }
  const db = new Database(copy);
  db.pragma('foreign_keys = OFF');
  let removed: { first: number; last: number };
  try {
    const last = db.prepare('SELECT max(seq) FROM receipts').pluck().get() as number;
    if (remove >= last) throw new StepFailed(`cannot remove ${remove} receipts from a ledger of ${last}`);
    // What a tamperer with write access does: lift the append-only guard, cut the tail. On a
    // copy, and past the ledger's store on purpose (a named exception in test/architecture/table-owners.ts).
    db.exec('DROP TRIGGER IF EXISTS receipts_append_only_delete');
    db.prepare('DELETE FROM receipts WHERE seq > ?').run(last - remove);
    removed = { first: last - remove + 1, last };
  } finally {
    db.close();
  }
  n.line(
    'check',
    `a copy of the ledger loses its newest ${remove} receipts (#${removed.first}–#${removed.last}), as if someone cut its tail`,
  );
  const key = await receiptKeyFile(ctx);
  const copyEnv = { OPENEXEC_DATA_DIR: copyDir };
  const approver = approverKeyFile(ctx);
  const operator = operatorKeyFile(ctx);
  const keys = `--public-key ${key} --approver-key ${approver} --approver-key ${operator}`;
  const keyArgs = ['--public-key', key, '--approver-key', approver, '--approver-key', operator];
  const chainOnly = await shown(
    ctx,
    `OPENEXEC_DATA_DIR=${copyDir} openexec verify-ledger ${keys}`,
    OPENEXEC_BIN,
    ['verify-ledger', ...keyArgs],
    copyEnv,
  );
  n.line(
    'check',
    chainOnly.code === 0
      ? 'the chain alone still holds: every remaining receipt links to the one before it'
      : `exit ${chainOnly.code}: cutting these receipts also broke what the side tables say; the checkpoint says more:`,
  );
  const r = await shown(
    ctx,
    `OPENEXEC_DATA_DIR=${copyDir} openexec verify-ledger ${keys} --checkpoint ${checkpoint}`,
    OPENEXEC_BIN,
    ['verify-ledger', ...keyArgs, '--checkpoint', checkpoint],
    copyEnv,
  );
  if (r.code !== 3) throw new StepFailed(`expected verify-ledger --checkpoint to exit 3 on the cut copy, it exited ${r.code}`);
  n.line('check', `exit ${r.code}: the saved checkpoint catches the removal`);
}
