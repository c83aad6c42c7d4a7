import { readdirSync, statSync } from 'node:fs';
import { readRegularFile } from '../core/read-regular-file.ts';
import { writeWhole } from './write-whole.ts';
import { join } from 'node:path';
import type { Ed25519Verifier } from '../core/crypto/ed25519.ts';
import { sha256Hex } from '../core/json/request-hash.ts';
import { hashesEqual, leafHash } from '../core/ledger/merkle/rfc9162.ts';
import { verifyInclusion } from '../../shared/merkle-verify.ts';
import { CheckpointError, verifyCheckpointNote } from '../core/ledger/checkpoint/checkpoint-note.ts';
import type { SavedCheckpoint } from '../core/ledger/checkpoint/compare-checkpoints.ts';
import type { CheckpointView, InclusionView } from '../core/ledger/proofs.ts';
import type { ConsoleClient } from './console-client.ts';
import type { ReceiptDto } from '../../shared/console-dto.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { describeKey, type TrustedKey } from './receipt-key.ts';

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));

/** `openexec checkpoint [--out FILE]`: a signed checkpoint of the ledger as it is now. */
export async function checkpointCommand(client: ConsoleClient, outFile: string | undefined, out: CliOutput): Promise<number> {
  const c = await client.call('issueCheckpoint');
  if (outFile !== undefined) writeWhole(outFile, c.note, 'checkpoint');
  if (out.json) out.printJson(c);
  else if (outFile !== undefined) out.print(`checkpoint of ${c.size} receipts (root ${c.rootHash}) saved to ${outFile}`);
  else out.print(c.note.trimEnd());
  return 0;
}

async function getPublic<T>(client: ConsoleClient, path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${client.address}${path}`);
  } catch {
    throw new CliError(`cannot reach OpenExec at ${client.address} (is it running?)`);
  }
  const body = (await res.json().catch(() => null)) as { detail?: unknown } | null;
  if (!res.ok) throw new CliError(typeof body?.detail === 'string' ? body.detail : `HTTP ${res.status} from ${path}`);
  return body as T;
}

/**
 * `openexec prove SEQ [--size N]`: fetches the receipt and its inclusion proof and checks
 * both here: the receipt's hash is its body's, the proof leads from it to the root, and (by
 * default) that root is the one the latest checkpoint signs.
 */
export async function proveCommand(
  client: ConsoleClient,
  seqText: string,
  sizeText: string | undefined,
  key: TrustedKey,
  out: CliOutput,
): Promise<number> {
  const receiptKey = key.verifier;
  const seq = wholeNumber(seqText, 'receipt number');
  const size = sizeText === undefined ? undefined : wholeNumber(sizeText, '--size');
  let signedRoot: Uint8Array | null = null;
  let treeSize: number;
  if (size === undefined) {
    const checkpoint = await getPublic<CheckpointView>(client, '/receipts/checkpoint');
    let verified: { size: number; root: Uint8Array };
    try {
      verified = verifyCheckpointNote(checkpoint.note, receiptKey);
    } catch (err) {
      throw new CliError(`the server's checkpoint does not verify with ${describeKey(key)}: ${(err as Error).message}`, 3);
    }
    signedRoot = verified.root;
    // The size the note signs, not the one the server printed beside it.
    treeSize = verified.size;
  } else {
    treeSize = size;
  }
  const proof = await getPublic<InclusionView>(client, `/receipts/${seq}/inclusion?size=${treeSize}`);
  const { receipt } = await client.call('getReceipt', { seq });
  const problems = await inclusionProblems(seq, receipt, proof, treeSize, signedRoot);
  const valid = problems.length === 0;
  if (out.json)
    out.printJson({
      valid,
      problems,
      signed_checkpoint: signedRoot !== null,
      trustedKey: { keyId: receiptKey.keyId, source: key.source },
      ...proof,
    });
  else if (valid) {
    out.print(`trusted ${describeKey(key)}`);
    out.print(
      `receipt ${seq} is in the tree of ${proof.tree_size} receipts (root ${proof.root_hash})` +
        `${signedRoot ? ', the root of the latest signed checkpoint' : ' (a root no checkpoint signs: pass no --size to check against one)'}` +
        `: ${proof.proof.length} hashes verified`,
    );
  } else {
    out.print(`trusted ${describeKey(key)}`);
    out.print(`receipt ${seq}: proof INVALID: ${problems.join('; ')}`);
  }
  return valid ? 0 : 3;
}

/**
 * What is wrong with a receipt's inclusion proof as a server gave it: the receipt must hash to
 * its hash, the proof must be for that receipt in the tree of exactly `treeSize` receipts (the
 * one asked for, or the one the checkpoint signs: a proof computed for another size can still
 * verify against the same root, and would then name a tree that was not asked about), and it
 * must lead to the signed root, or with none, to the root it names.
 */
export async function inclusionProblems(
  seq: number,
  receipt: Pick<ReceiptDto, 'body' | 'hash'>,
  proof: InclusionView,
  treeSize: number,
  signedRoot: Uint8Array | null,
): Promise<string[]> {
  const problems: string[] = [];
  if (sha256Hex(Buffer.from(receipt.body, 'utf8')) !== receipt.hash) problems.push('the receipt body does not hash to its hash');
  if (proof.receipt_hash !== receipt.hash) problems.push('the proof is for another receipt hash');
  if (proof.tree_size !== treeSize) problems.push(`the proof is for a tree of ${proof.tree_size} receipts, not the ${treeSize} asked for`);
  if (seq < 1 || seq > treeSize) problems.push(`receipt ${seq} is not among the first ${treeSize}`);
  const leaf = leafHash(bytes(receipt.hash));
  const root = signedRoot ?? bytes(proof.root_hash);
  if (!(await verifyInclusion(seq - 1, treeSize, leaf, proof.proof.map(bytes), root)))
    problems.push('the inclusion proof does not lead to the root');
  if (signedRoot !== null && !hashesEqual(signedRoot, bytes(proof.root_hash)))
    problems.push('the proof is against another root than the checkpoint');
  return problems;
}

function wholeNumber(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new CliError(`${what} must be a whole number, got '${text}'`, 2);
  return Number(text);
}

/** The checkpoint notes a reviewer saved, unchecked: one file, or every `*.txt` note in a directory. */
export function readCheckpointNotes(path: string): { file: string; note: string }[] {
  let files: string[];
  try {
    files = statSync(path).isDirectory()
      ? readdirSync(path)
          .filter((f) => f.endsWith('.txt'))
          .map((f) => join(path, f))
      : [path];
  } catch (err) {
    throw new CliError(`cannot read checkpoints from ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (files.length === 0) throw new CliError(`no checkpoint notes (*.txt) in ${path}`);
  return files.map((file) => {
    try {
      return { file, note: readRegularFile(file) };
    } catch (err) {
      throw new CliError(`${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 3);
    }
  });
}

/** Runs `check` on a saved note; a note that does not hold is exit 3, naming its file. */
export function checkedNote<T>(file: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    const why = err instanceof CheckpointError ? err.message : String(err);
    throw new CliError(`${file}: ${why}`, 3);
  }
}

/** Checkpoints a reviewer saved, each verified with the receipt key. */
export function loadSavedCheckpoints(path: string, receiptKey: Ed25519Verifier): SavedCheckpoint[] {
  return readCheckpointNotes(path).map(({ file, note }) => {
    const c = checkedNote(file, () => verifyCheckpointNote(note, receiptKey));
    return { size: c.size, root: c.root, source: file };
  });
}
