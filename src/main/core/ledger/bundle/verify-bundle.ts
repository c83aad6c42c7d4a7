import type { Ed25519Verifier } from '../../crypto/ed25519.ts';
import { parseJson } from '../../json/parse.ts';
import { pythonJsonDumpsSorted } from '../../json/canonical.ts';
import { sha256Hex } from '../../json/request-hash.ts';
import type { ApproverKeys } from '../../approval/check-evidence.ts';
import { CheckpointError, verifyCheckpointNote } from '../checkpoint/checkpoint-note.ts';
import { hashesEqual, leafHash } from '../merkle/rfc9162.ts';
import { verifyInclusion } from '../../../../shared/merkle-verify.ts';
import { GENESIS_PREV_HASH } from '../receipt-body.ts';
import { checkSignedReceipt } from '../verify-ledger.ts';
import type { BundleReceipt, ReceiptBundle } from './bundle-format.ts';
import { bodyProblems, type BodyField } from '../../../../shared/receipt-bodies.ts';

export interface BundleVerdict {
  valid: boolean;
  /** Receipts that passed every check before the first problem (all of them when valid). */
  checked: number;
  /** Every problem found, in bundle order; the first is the one to report. */
  problems: string[];
  checkpointSize: number | null;
  /** Receipts whose results the bundle carries and that were checked against `result_hash`. */
  resultsChecked: number;
  /** Format-2 receipts whose bodies (kept or purged) were checked against `salted_hashes`. */
  bodiesChecked: number;
  approvalsChecked: number;
  approvalsWithoutEvidence: number;
}

const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
const MAX_PROBLEMS = 50;

/** The query names no filter and no range: the bundle claims to be the whole ledger. */
function wholeLedger(query: Record<string, unknown>): boolean {
  return Object.values(query).every((v) => v === undefined);
}

function resultProblems(r: BundleReceipt, body: Record<string, unknown>): string[] {
  if (r.result === undefined) return [];
  const problems: string[] = [];
  if (body['event'] !== 'executed') return [`receipt ${r.seq}: carries a result but is not an executed receipt`];
  if (sha256Hex(r.result) !== body['result_hash']) problems.push(`receipt ${r.seq}: the result does not hash to its result_hash`);
  let legacy: string | null = null;
  try {
    legacy = sha256Hex(`${String(body['exec_id'])}:${pythonJsonDumpsSorted(parseJson(r.result))}`);
  } catch {
    problems.push(`receipt ${r.seq}: the result is not JSON`);
  }
  if (legacy !== null && legacy !== body['legacy_receipt']) problems.push(`receipt ${r.seq}: the result does not give its legacy_receipt`);
  return problems;
}

/** A bundle receipt's bodies in the shape the shared check reads (a purged one has no salt or text). */
function bundleBodyList(r: BundleReceipt): { field: BodyField; salt: string | null; text: string | null; purgedAt: string | null }[] {
  return Object.entries(r.bodies ?? {}).map(([field, b]) =>
    'salt' in b
      ? { field: field as BodyField, salt: b.salt, text: b.text, purgedAt: null }
      : { field: field as BodyField, salt: null, text: null, purgedAt: b.purged_at },
  );
}

/**
 * Checks a bundle offline against the receipt key and approver keys the reviewer trusts:
 * each receipt's hash, signature and body; the links between consecutive seqs (a subset has
 * no others); the checkpoint note's signature; each receipt's inclusion proof against that
 * checkpoint; results against `result_hash` and `legacy_receipt`; format-2 bodies against their
 * salted hashes; approval evidence.
 */
export async function verifyBundle(bundle: ReceiptBundle, receiptKey: Ed25519Verifier, approvers: ApproverKeys): Promise<BundleVerdict> {
  const problems: string[] = [];
  let checked = 0;
  let resultsChecked = 0;
  let approvalsChecked = 0;
  let approvalsWithoutEvidence = 0;
  let bodiesChecked = 0;
  const note = (p: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };
  if (bundle.key_id !== receiptKey.keyId) note(`the bundle names receipt key ${bundle.key_id}, but the trusted key is ${receiptKey.keyId}`);
  if (bundle.count !== bundle.receipts.length) note(`count says ${bundle.count} receipts, the bundle holds ${bundle.receipts.length}`);

  let root: Uint8Array | null = null;
  let size: number | null = null;
  try {
    const c = verifyCheckpointNote(bundle.checkpoint.note, receiptKey);
    root = c.root;
    size = c.size;
    if (c.size !== bundle.checkpoint.size)
      note(`the checkpoint note covers ${c.size} receipts, its size field says ${bundle.checkpoint.size}`);
    if (!hashesEqual(c.root, bytes(bundle.checkpoint.root_hash))) note('the checkpoint note signs another root than its root_hash field');
  } catch (err) {
    note(`the checkpoint does not verify: ${err instanceof CheckpointError ? err.message : String(err)}`);
  }

  let previous: BundleReceipt | null = null;
  for (const r of bundle.receipts) {
    const before = problems.length;
    if (previous !== null && r.seq <= previous.seq)
      note(`receipt ${r.seq} follows receipt ${previous.seq}: receipts must be in ascending seq`);
    const check = checkSignedReceipt(r, receiptKey, approvers);
    for (const p of check.problems) note(`receipt ${r.seq}: ${p}`);
    if (r.seq === 1 && r.prev_hash !== GENESIS_PREV_HASH) note('receipt 1: prev_hash is not the genesis value');
    if (previous !== null && previous.seq === r.seq - 1 && r.prev_hash !== previous.hash) {
      note(`receipt ${r.seq}: link broken: prev_hash is not receipt ${previous.seq}'s hash`);
    }
    if (size !== null && root !== null) {
      if (r.seq > size) note(`receipt ${r.seq} is beyond the checkpoint (${size} receipts)`);
      else if (r.inclusion_proof === undefined) note(`receipt ${r.seq}: no inclusion proof`);
      else if (!(await verifyInclusion(r.seq - 1, size, leafHash(bytes(r.hash)), r.inclusion_proof.map(bytes), root))) {
        note(`receipt ${r.seq}: the inclusion proof does not lead to the checkpoint's root`);
      }
    }
    if (check.body !== null) {
      for (const p of resultProblems(r, check.body)) note(p);
      for (const p of await bodyProblems(check.body, bundleBodyList(r))) note(`receipt ${r.seq}: ${p}`);
      if (r.bodies !== undefined) bodiesChecked++;
      if (r.result !== undefined) resultsChecked++;
      if (check.evidenceAbsent) approvalsWithoutEvidence++;
      else if (check.body['approval'] !== undefined) approvalsChecked++;
    }
    if (problems.length === before && problems.length === 0) checked++;
    previous = r;
  }
  if (bundle.complete && wholeLedger(bundle.query) && size !== null) {
    const seqs = bundle.receipts.map((r) => r.seq);
    if (seqs.length !== size || seqs.some((s, i) => s !== i + 1)) {
      note(`the bundle says it is the whole ledger (complete, no filter) but does not hold receipts 1 to ${size}`);
    }
  }
  return {
    valid: problems.length === 0,
    checked,
    problems,
    checkpointSize: size,
    resultsChecked,
    bodiesChecked,
    approvalsChecked,
    approvalsWithoutEvidence,
  };
}
