/**
 * Independent verification of one ledger receipt, for the sandboxed renderer (and anyone else
 * who must not take the main process's word for it). Pure: no Node, no DOM, no network.
 *
 * What is checked (docs/receipts.md describes the format):
 * - hash: sha256 hex of the UTF-8 body equals the receipt's `hash`;
 * - body: the body is a JSON object whose `seq` and `prev_hash` equal the receipt's;
 * - fields: every indexed column shown beside the body (event, time, action, ...) says exactly
 *   what the signed body says, so a row edited outside the body is caught too;
 * - key: the body names the receipt key it was signed with, and that is the key we hold;
 * - link: `prevHash` is the recomputed hash of the previous receipt (or the genesis value);
 * - next link: when the next receipt is known, its `prevHash` is this receipt's hash;
 * - signature: Ed25519 over the UTF-8 body verifies against the receipt public key;
 * - approval: when approver keys are given, the approval evidence an execution carries is
 *   its own approval and verifies with one of them;
 * - bodies: on a receipt of format 2, every body shown beside it is the one its
 *   `salted_hashes` commits to (salt and text hash to it), or is shown as purged.
 */
import type { ReceiptDto } from './console-dto';
import { base64ToBytes, decodeSignatureBase64, sha256Hex, verifyEd25519 } from './crypto/ed25519-verify';
import { approvalEvidence } from './approval-evidence';
import { bodyProblems } from './receipt-bodies';

export const GENESIS_PREV_HASH = '0'.repeat(64);

/** DER prefix of an Ed25519 SubjectPublicKeyInfo: SEQUENCE, AlgorithmIdentifier 1.3.101.112, BIT STRING. */
const ED25519_SPKI_PREFIX = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00] as const;

export type ReceiptCheckId = 'hash' | 'body' | 'fields' | 'key' | 'link' | 'next-link' | 'signature' | 'approval' | 'bodies';

/** An approver public key the console trusts (ClawShield's, the operator's). */
export interface ApproverPublicKey {
  keyId: string;
  /** Raw 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
}

export interface ReceiptCheck {
  id: ReceiptCheckId;
  ok: boolean;
  /** Plain words: what was compared and what was found. */
  detail: string;
}

export interface ReceiptVerification {
  seq: number;
  valid: boolean;
  checks: ReceiptCheck[];
  /** The `detail` of every failed check, in order. */
  problems: string[];
}

export interface VerifyReceiptInput {
  receipt: ReceiptDto;
  /** The receipt with seq - 1, or null for the first receipt. */
  previous: ReceiptDto | null;
  /** The receipt with seq + 1 when there is one; omitted or null to skip that check. */
  next?: ReceiptDto | null;
  /** Raw 32-byte Ed25519 receipt public key (see ed25519PublicKeyFromPem). */
  publicKey: Uint8Array;
  /** The receipt key's id; when given, the body's `receipt_key_id` must equal it. */
  keyId?: string | null;
  /** When given, approval evidence is checked against these keys (docs/receipts.md). */
  approverKeys?: readonly ApproverPublicKey[] | null;
}

export class PemError extends Error {
  override name = 'PemError';
}

/** Extracts the 32 raw key bytes from a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) holding Ed25519. */
export function ed25519PublicKeyFromPem(pem: string): Uint8Array {
  const match = /-----BEGIN PUBLIC KEY-----([\s\S]*?)-----END PUBLIC KEY-----/.exec(pem);
  if (!match?.[1]) throw new PemError('not a PEM "PUBLIC KEY" block');
  const b64 = match[1].replace(/\s+/g, '');
  const der = base64ToBytes(b64);
  if (!der) throw new PemError('the PEM body is not base64');
  if (der.length !== ED25519_SPKI_PREFIX.length + 32) {
    throw new PemError(`expected a 44-byte Ed25519 SubjectPublicKeyInfo, got ${der.length} bytes`);
  }
  for (let i = 0; i < ED25519_SPKI_PREFIX.length; i++) {
    if (der[i] !== ED25519_SPKI_PREFIX[i]) throw new PemError('the key is not an Ed25519 public key');
  }
  return der.slice(ED25519_SPKI_PREFIX.length);
}

/** Body field ↔ DTO field pairs that must agree (absent in the body ⇔ null in the DTO). */
const MIRRORED_FIELDS = [
  ['event', 'event'],
  ['time', 'time'],
  ['action', 'action'],
  ['reason', 'reason'],
  ['exec_id', 'execId'],
  ['proposal_id', 'proposalId'],
  ['approval_id', 'approvalId'],
  ['approver_key_id', 'approverKeyId'],
  ['request_hash', 'requestHash'],
  ['agent', 'agent'],
] as const satisfies readonly (readonly [string, keyof ReceiptDto])[];

function parseBody(body: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
    return parsed as Record<string, unknown>;
  } catch {
    return null;
  }
}

function show(value: unknown): string {
  return value === undefined ? 'absent' : JSON.stringify(value);
}

function checkBody(receipt: ReceiptDto, parsed: Record<string, unknown> | null): ReceiptCheck {
  if (!parsed) return { id: 'body', ok: false, detail: 'The body is not a JSON object.' };
  const problems: string[] = [];
  if (parsed['seq'] !== receipt.seq) {
    problems.push(`body seq is ${show(parsed['seq'])}, receipt says ${receipt.seq}`);
  }
  if (parsed['prev_hash'] !== receipt.prevHash) {
    problems.push(`body prev_hash is ${show(parsed['prev_hash'])}, receipt says ${receipt.prevHash}`);
  }
  return problems.length
    ? { id: 'body', ok: false, detail: `Body does not match the receipt: ${problems.join('; ')}.` }
    : { id: 'body', ok: true, detail: 'The body carries this receipt’s seq and prev_hash.' };
}

function checkFields(receipt: ReceiptDto, parsed: Record<string, unknown> | null): ReceiptCheck {
  if (!parsed) return { id: 'fields', ok: false, detail: 'No body to compare the fields with.' };
  const bad: string[] = [];
  for (const [bodyKey, dtoKey] of MIRRORED_FIELDS) {
    const inBody = parsed[bodyKey] ?? null;
    if (inBody !== receipt[dtoKey]) {
      bad.push(`${bodyKey} (signed ${show(parsed[bodyKey])}, shown ${show(receipt[dtoKey])})`);
    }
  }
  return bad.length
    ? { id: 'fields', ok: false, detail: `Shown fields differ from the signed body: ${bad.join(', ')}.` }
    : { id: 'fields', ok: true, detail: 'Every shown field matches the signed body.' };
}

function checkKey(parsed: Record<string, unknown> | null, keyId: string | null | undefined): ReceiptCheck | null {
  if (!keyId || !parsed || parsed['receipt_key_id'] === undefined) return null;
  return parsed['receipt_key_id'] === keyId
    ? { id: 'key', ok: true, detail: `Signed with receipt key ${keyId}.` }
    : {
        id: 'key',
        ok: false,
        detail: `The body names receipt key ${show(parsed['receipt_key_id'])}, not ${keyId}.`,
      };
}

async function checkLink(receipt: ReceiptDto, previous: ReceiptDto | null): Promise<ReceiptCheck> {
  if (receipt.seq === 1) {
    if (previous) return { id: 'link', ok: false, detail: 'The first receipt cannot have a predecessor.' };
    return receipt.prevHash === GENESIS_PREV_HASH
      ? { id: 'link', ok: true, detail: 'First receipt: prev_hash is the genesis value (64 zeros).' }
      : { id: 'link', ok: false, detail: 'First receipt, but prev_hash is not the genesis value.' };
  }
  if (!previous) {
    return { id: 'link', ok: false, detail: `Receipt ${receipt.seq - 1} (the predecessor) is missing.` };
  }
  if (previous.seq !== receipt.seq - 1) {
    return { id: 'link', ok: false, detail: `The predecessor given is #${previous.seq}, not #${receipt.seq - 1}.` };
  }
  const previousHash = await sha256Hex(previous.body);
  if (previousHash !== previous.hash) {
    return { id: 'link', ok: false, detail: `Receipt #${previous.seq} does not hash to its own recorded hash.` };
  }
  return previousHash === receipt.prevHash
    ? { id: 'link', ok: true, detail: `prev_hash is the recomputed hash of receipt #${previous.seq}.` }
    : { id: 'link', ok: false, detail: `prev_hash is not the hash of receipt #${previous.seq}: the chain is broken here.` };
}

function checkNextLink(receipt: ReceiptDto, next: ReceiptDto | null | undefined): ReceiptCheck | null {
  if (!next) return null;
  if (next.seq !== receipt.seq + 1) {
    return { id: 'next-link', ok: false, detail: `The successor given is #${next.seq}, not #${receipt.seq + 1}.` };
  }
  return next.prevHash === receipt.hash
    ? { id: 'next-link', ok: true, detail: `Receipt #${next.seq} links back to this one.` }
    : { id: 'next-link', ok: false, detail: `Receipt #${next.seq} does not link back to this receipt’s hash.` };
}

async function checkSignature(receipt: ReceiptDto, publicKey: Uint8Array): Promise<ReceiptCheck> {
  if (publicKey.length !== 32) {
    return { id: 'signature', ok: false, detail: 'The receipt public key is not 32 bytes.' };
  }
  const signature = decodeSignatureBase64(receipt.signature);
  if (!signature) {
    return { id: 'signature', ok: false, detail: 'The signature is not base64 of 64 bytes.' };
  }
  let verified = false;
  try {
    verified = await verifyEd25519(publicKey, new TextEncoder().encode(receipt.body), signature);
  } catch {
    verified = false;
  }
  return verified
    ? { id: 'signature', ok: true, detail: 'The Ed25519 signature over the body verifies with the receipt key.' }
    : { id: 'signature', ok: false, detail: 'The Ed25519 signature does not verify with the receipt key.' };
}

async function checkApproval(
  parsed: Record<string, unknown> | null,
  approverKeys: readonly ApproverPublicKey[] | null | undefined,
): Promise<ReceiptCheck | null> {
  if (!parsed || !approverKeys) return null;
  const evidence = approvalEvidence(parsed);
  switch (evidence.kind) {
    case 'none':
      return null;
    case 'absent':
      return {
        id: 'approval',
        ok: true,
        detail: `Names approval ${evidence.approvalId} but keeps no evidence of it (an older receipt, or one closed after a restart).`,
      };
    case 'malformed':
      return { id: 'approval', ok: false, detail: `${evidence.problem}.` };
    case 'signed': {
      const key = approverKeys.find((k) => k.keyId === evidence.keyId);
      if (!key)
        return {
          id: 'approval',
          ok: false,
          detail: `Approval ${evidence.approvalId} is signed by key ${evidence.keyId}, not a trusted approver key.`,
        };
      let verified = false;
      try {
        verified = await verifyEd25519(key.publicKey, evidence.message, evidence.signature);
      } catch {
        verified = false;
      }
      return verified
        ? { id: 'approval', ok: true, detail: `Approval ${evidence.approvalId} is signed by approver key ${evidence.keyId}.` }
        : {
            id: 'approval',
            ok: false,
            detail: `Approval ${evidence.approvalId}: the signature does not verify with approver key ${evidence.keyId}.`,
          };
    }
  }
}

async function checkBodies(receipt: ReceiptDto, parsed: Record<string, unknown> | null): Promise<ReceiptCheck | null> {
  if (!parsed || (parsed['salted_hashes'] === undefined && receipt.bodies === undefined)) return null;
  const problems = await bodyProblems(parsed, receipt.bodies ?? []);
  if (problems.length > 0) return { id: 'bodies', ok: false, detail: `Bodies: ${problems.join('; ')}.` };
  const purged = (receipt.bodies ?? []).filter((b) => b.purgedAt !== null).length;
  const kept = (receipt.bodies ?? []).length - purged;
  return {
    id: 'bodies',
    ok: true,
    detail: `${kept} kept bod${kept === 1 ? 'y hashes' : 'ies hash'} to the signed salted hash${purged > 0 ? `; ${purged} purged by retention` : ''}.`,
  };
}

export async function verifyReceipt(input: VerifyReceiptInput): Promise<ReceiptVerification> {
  const { receipt, previous, next, publicKey, keyId } = input;
  const parsed = parseBody(receipt.body);
  const bodyHash = await sha256Hex(receipt.body);
  const checks: ReceiptCheck[] = [
    bodyHash === receipt.hash
      ? { id: 'hash', ok: true, detail: 'sha256 of the body equals the recorded hash.' }
      : { id: 'hash', ok: false, detail: `sha256 of the body is ${bodyHash}, the recorded hash is ${receipt.hash}.` },
    checkBody(receipt, parsed),
    checkFields(receipt, parsed),
  ];
  const key = checkKey(parsed, keyId);
  if (key) checks.push(key);
  checks.push(await checkLink(receipt, previous));
  const nextLink = checkNextLink(receipt, next);
  if (nextLink) checks.push(nextLink);
  checks.push(await checkSignature(receipt, publicKey));
  const approval = await checkApproval(parsed, input.approverKeys);
  if (approval) checks.push(approval);
  const bodies = await checkBodies(receipt, parsed);
  if (bodies) checks.push(bodies);
  const problems = checks.filter((c) => !c.ok).map((c) => c.detail);
  return { seq: receipt.seq, valid: problems.length === 0, checks, problems };
}
