import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import type { ReceiptDto, ReceiptEvent } from '../../src/shared/console-dto';
import {
  ed25519PublicKeyFromPem,
  GENESIS_PREV_HASH,
  PemError,
  verifyReceipt,
  type ReceiptVerification,
} from '../../src/shared/verify-receipt';

/** Canonical enough for these tests: sorted keys, no whitespace, ASCII content. */
function canonical(value: Record<string, unknown>): string {
  const sorted = Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, value[k]]),
  );
  return JSON.stringify(sorted);
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

interface Keys {
  privateKey: KeyObject;
  pem: string;
  raw: Uint8Array;
  keyId: string;
}

function makeKeys(): Keys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const raw = new Uint8Array(der.subarray(12));
  return { privateKey, pem, raw, keyId: sha256(Buffer.from(raw).toString('hex')).slice(0, 16) };
}

/** A chain of receipts signed like the ledger signs them (docs/receipts.md). */
function makeChain(keys: Keys, count: number): ReceiptDto[] {
  const chain: ReceiptDto[] = [];
  let prevHash = GENESIS_PREV_HASH;
  const events: ReceiptEvent[] = ['proposed', 'approved', 'executed', 'denied', 'config'];
  for (let seq = 1; seq <= count; seq++) {
    const event = events[(seq - 1) % events.length] ?? 'executed';
    const time = new Date(Date.UTC(2026, 1, 17, 12, 0, seq)).toISOString();
    const fields: Record<string, unknown> = {
      v: 1,
      seq,
      prev_hash: prevHash,
      time,
      receipt_key_id: keys.keyId,
      event,
      action: 'echo',
      payload: { message: `hello ${seq}`, big: 1 },
      request_hash: sha256(`request ${seq}`),
      proposal_id: `prop-${seq}`,
    };
    if (event === 'denied') fields['reason'] = 'not today';
    if (event === 'executed') fields['exec_id'] = `exec-${seq}`;
    const body = canonical(fields);
    const hash = sha256(body);
    chain.push({
      seq,
      event,
      time,
      action: 'echo',
      hash,
      prevHash,
      body,
      signature: sign(null, Buffer.from(body, 'utf8'), keys.privateKey).toString('base64'),
      reason: (fields['reason'] as string | undefined) ?? null,
      execId: (fields['exec_id'] as string | undefined) ?? null,
      proposalId: `prop-${seq}`,
      approvalId: null,
      approverKeyId: null,
      requestHash: fields['request_hash'] as string,
      agent: null,
    });
    prevHash = hash;
  }
  return chain;
}

function failed(result: ReceiptVerification): string[] {
  return result.checks.filter((c) => !c.ok).map((c) => c.id);
}

let keys: Keys;
let chain: ReceiptDto[];
const at = (seq: number): ReceiptDto => {
  const r = chain[seq - 1];
  if (!r) throw new Error(`no receipt ${seq}`);
  return r;
};

beforeAll(() => {
  keys = makeKeys();
  chain = makeChain(keys, 5);
});

describe('ed25519PublicKeyFromPem', () => {
  test('extracts the 32 raw bytes of a node:crypto SPKI PEM', () => {
    expect(ed25519PublicKeyFromPem(keys.pem)).toEqual(keys.raw);
    expect(ed25519PublicKeyFromPem(keys.pem.replace(/\n/g, '\r\n'))).toEqual(keys.raw);
  });

  test('refuses other keys and garbage', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => ed25519PublicKeyFromPem(rsa)).toThrow(PemError);
    expect(() => ed25519PublicKeyFromPem(x25519)).toThrow(/not an Ed25519/);
    expect(() => ed25519PublicKeyFromPem('hello')).toThrow(PemError);
    expect(() => ed25519PublicKeyFromPem('-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----')).toThrow(/base64/);
  });
});

describe('verifyReceipt', () => {
  test('a receipt in the middle of a good chain is valid, with both links', async () => {
    const result = await verifyReceipt({ receipt: at(3), previous: at(2), next: at(4), publicKey: keys.raw, keyId: keys.keyId });
    expect(result.problems).toEqual([]);
    expect(result.valid).toBe(true);
    expect(result.checks.map((c) => c.id)).toEqual(['hash', 'body', 'fields', 'key', 'link', 'next-link', 'signature']);
  });

  test('the first receipt links to the genesis value', async () => {
    const result = await verifyReceipt({ receipt: at(1), previous: null, next: at(2), publicKey: keys.raw });
    expect(result.valid).toBe(true);
    const tampered = { ...at(1), prevHash: 'f'.repeat(64) };
    expect(failed(await verifyReceipt({ receipt: tampered, previous: null, publicKey: keys.raw }))).toContain('link');
  });

  test('a tampered body fails the hash (and the signature)', async () => {
    const receipt = { ...at(3), body: at(3).body.replace('hello 3', 'hello 4') };
    const result = await verifyReceipt({ receipt, previous: at(2), publicKey: keys.raw });
    expect(result.valid).toBe(false);
    expect(failed(result)).toEqual(['hash', 'signature']);
  });

  test('a tampered body with a recomputed hash still fails the signature', async () => {
    const body = at(3).body.replace('hello 3', 'hello 4');
    const receipt = { ...at(3), body, hash: sha256(body) };
    const result = await verifyReceipt({ receipt, previous: at(2), publicKey: keys.raw });
    expect(failed(result)).toEqual(['signature']);
  });

  test('a wrong previous link fails the link check', async () => {
    const result = await verifyReceipt({ receipt: at(4), previous: at(2), publicKey: keys.raw });
    expect(failed(result)).toEqual(['link']);
    const otherPrev = { ...at(3), hash: 'a'.repeat(64) };
    expect(failed(await verifyReceipt({ receipt: at(4), previous: otherPrev, publicKey: keys.raw }))).toEqual(['link']);
    expect(failed(await verifyReceipt({ receipt: at(4), previous: null, publicKey: keys.raw }))).toEqual(['link']);
  });

  test('a predecessor whose own body was altered breaks the link', async () => {
    const previous = { ...at(3), body: at(3).body.replace('hello 3', 'HELLO 3') };
    const result = await verifyReceipt({ receipt: at(4), previous, publicKey: keys.raw });
    expect(failed(result)).toEqual(['link']);
  });

  test('a body whose seq or prev_hash disagrees with the receipt fails the body check', async () => {
    const receipt = { ...at(3), seq: 30 };
    expect(failed(await verifyReceipt({ receipt, previous: null, publicKey: keys.raw }))).toEqual(['body', 'link']);
    const other = { ...at(3), prevHash: at(1).hash };
    expect(failed(await verifyReceipt({ receipt: other, previous: at(2), publicKey: keys.raw }))).toEqual(['body', 'link']);
  });

  test('a shown field edited outside the signed body is caught', async () => {
    const receipt = { ...at(4), reason: 'approved by the boss' };
    const result = await verifyReceipt({ receipt, previous: at(3), publicKey: keys.raw });
    expect(failed(result)).toEqual(['fields']);
    expect(result.problems[0]).toMatch(/reason/);
    // The agent the ledger shows (and filters by) must be the signed one too.
    const agent = await verifyReceipt({ receipt: { ...at(4), agent: 'trusted-bot' }, previous: at(3), publicKey: keys.raw });
    expect(failed(agent)).toEqual(['fields']);
    expect(agent.problems[0]).toMatch(/agent \(signed absent, shown "trusted-bot"\)/);
  });

  test('a bad signature fails', async () => {
    const other = sign(null, Buffer.from('something else'), keys.privateKey).toString('base64');
    expect(failed(await verifyReceipt({ receipt: { ...at(2), signature: other }, previous: at(1), publicKey: keys.raw }))).toEqual([
      'signature',
    ]);
    const good = at(2).signature;
    const flipped = `${good.slice(0, -3)}${good.at(-3) === 'A' ? 'Q' : 'A'}==`;
    for (const signature of ['', 'not base64!', Buffer.alloc(63).toString('base64'), flipped]) {
      const result = await verifyReceipt({ receipt: { ...at(2), signature }, previous: at(1), publicKey: keys.raw });
      expect(failed(result), signature).toEqual(['signature']);
    }
  });

  test('the wrong key fails the signature, and a different key id is reported', async () => {
    const stranger = makeKeys();
    const result = await verifyReceipt({ receipt: at(2), previous: at(1), publicKey: stranger.raw, keyId: stranger.keyId });
    expect(failed(result)).toEqual(['key', 'signature']);
    expect(failed(await verifyReceipt({ receipt: at(2), previous: at(1), publicKey: new Uint8Array(31) }))).toEqual(['signature']);
  });

  test('a next receipt that does not link back is reported', async () => {
    const next = { ...at(4), prevHash: 'b'.repeat(64) };
    expect(failed(await verifyReceipt({ receipt: at(3), previous: at(2), next, publicKey: keys.raw }))).toEqual(['next-link']);
  });

  test('a body that is not a JSON object fails cleanly', async () => {
    const body = '[1,2,3]';
    const receipt = { ...at(2), body, hash: sha256(body), signature: sign(null, Buffer.from(body), keys.privateKey).toString('base64') };
    const result = await verifyReceipt({ receipt, previous: at(1), publicKey: keys.raw });
    expect(failed(result)).toEqual(['body', 'fields']);
  });
});

describe('approval evidence', () => {
  /** An executed receipt (seq 1) carrying the evidence of an approval signed by `approver`. */
  function approvedReceipt(approver: Keys, change: (evidence: Record<string, string>) => void = () => {}): ReceiptDto {
    const requestHash = sha256('request');
    const evidence: Record<string, string> = {
      approval_id: 'appr-1',
      tenant_id: 'tenant-001',
      action_hash: requestHash,
      issued_at: '2026-02-17T12:00:00.000Z',
      expires_at: '2026-02-17T12:05:00.000Z',
      key_id: approver.keyId,
      signature: '',
    };
    const message =
      evidence['approval_id']! + evidence['tenant_id'] + evidence['action_hash'] + evidence['issued_at'] + evidence['expires_at'];
    evidence['signature'] = sign(null, Buffer.from(message, 'utf8'), approver.privateKey).toString('base64');
    change(evidence);
    const time = '2026-02-17T12:00:01.000Z';
    const body = canonical({
      v: 1,
      seq: 1,
      prev_hash: GENESIS_PREV_HASH,
      time,
      receipt_key_id: keys.keyId,
      event: 'executed',
      action: 'echo',
      request_hash: requestHash,
      exec_id: 'exec-1',
      approval_id: 'appr-1',
      approver: 'clawshield',
      approver_key_id: approver.keyId,
      tenant_id: 'tenant-001',
      approval: Object.fromEntries(
        Object.keys(evidence)
          .sort()
          .map((k) => [k, evidence[k]]),
      ),
    });
    return {
      seq: 1,
      event: 'executed',
      time,
      action: 'echo',
      hash: sha256(body),
      prevHash: GENESIS_PREV_HASH,
      body,
      signature: sign(null, Buffer.from(body, 'utf8'), keys.privateKey).toString('base64'),
      reason: null,
      execId: 'exec-1',
      proposalId: null,
      approvalId: 'appr-1',
      approverKeyId: approver.keyId,
      requestHash,
      agent: null,
    };
  }
  const verifyWith = (receipt: ReceiptDto, approvers: Keys[]) =>
    verifyReceipt({
      receipt,
      previous: null,
      publicKey: keys.raw,
      keyId: keys.keyId,
      approverKeys: approvers.map((a) => ({ keyId: a.keyId, publicKey: a.raw })),
    });

  test('evidence signed by a trusted approver key verifies', async () => {
    const approver = makeKeys();
    const result = await verifyWith(approvedReceipt(approver), [approver]);
    expect(result.checks.find((c) => c.id === 'approval')).toMatchObject({ ok: true });
    expect(result.valid).toBe(true);
  });

  test('a changed expiry (receipt re-signed), an unknown key, or evidence of another request fails', async () => {
    const approver = makeKeys();
    const later = await verifyWith(
      approvedReceipt(approver, (e) => (e['expires_at'] = '2099-01-01T00:00:00.000Z')),
      [approver],
    );
    expect(failed(later)).toEqual(['approval']);
    const unknown = await verifyWith(approvedReceipt(approver), [makeKeys()]);
    expect(failed(unknown)).toEqual(['approval']);
    expect(unknown.problems[0]).toContain('not a trusted approver key');
    const other = await verifyWith(
      approvedReceipt(approver, (e) => (e['action_hash'] = sha256('another'))),
      [approver],
    );
    expect(failed(other)).toEqual(['approval']);
  });
});
