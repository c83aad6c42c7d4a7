import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import Database from 'better-sqlite3';
import { post, startServer, type RunningServer } from '../support/harness.ts';
import { consoleCall } from '../support/console-http.ts';
import { verifyChain, verifyOneReceipt } from '../../src/main/core/ledger/verify-ledger.ts';
import { Ed25519Verifier } from '../../src/main/core/crypto/ed25519.ts';
import { ed25519PublicKeyFromPem, verifyReceipt } from '../../src/shared/verify-receipt.ts';
import type { ReceiptWithNeighboursDto } from '../../src/shared/console-dto.ts';
import { rawDb } from '../support/raw-db.ts';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Every way a signature's text can be "almost" base64 of 64 bytes. Node's Buffer decoder (what
 * verify-ledger used) reads every one of the first seven as the genuine 64 bytes. The table keeps
 * a signature's bytes; a text that was not strict base64 of 64 bytes before migration 11 is kept
 * as the bytes of that text (receipts-layout.ts), which is how each is stored here.
 */
const TEXT_CORRUPTIONS: Record<string, (sig: string) => string> = {
  'padded with junk': (sig) => `${sig}AAAA`,
  'extra padding': (sig) => `${sig}==`,
  'trailing junk': (sig) => `${sig}!!`,
  'whitespace inside': (sig) => `${sig.slice(0, 20)} ${sig.slice(20)}`,
  'trailing newline': (sig) => `${sig}\n`,
  'padding missing': (sig) => sig.replace(/=+$/, ''),
  'url-safe alphabet': (sig) => sig.replace(/\+/g, '-').replace(/\//g, '_'),
  // The last character before "==" carries 2 bits of the signature and 4 unused bits, which must be zero.
  'non-canonical padding bits': (sig) => `${sig.slice(0, 85)}${B64[B64.indexOf(sig.charAt(85)) | 1]}==`,
};

/** Every signature the table can hold in place of the genuine 64 bytes. */
const CORRUPTIONS: Record<string, (sig: Buffer) => Buffer> = {
  ...Object.fromEntries(
    Object.entries(TEXT_CORRUPTIONS).map(([name, corrupt]) => [
      `${name}, kept as its text`,
      (sig: Buffer) => Buffer.from(corrupt(sig.toString('base64')), 'utf8'),
    ]),
  ),
  '63 bytes': (sig) => sig.subarray(0, 63),
  '65 bytes': (sig) => Buffer.concat([sig, Buffer.of(0)]),
  'one bit flipped': (sig) => Buffer.concat([Buffer.of(sig[0]! ^ 1), sig.subarray(1)]),
  empty: () => Buffer.alloc(0),
};

describe('one signature rule: the same corrupted receipts get the same verdict from every verifier', () => {
  let s: RunningServer;
  let seq = 0;
  let genuine: Buffer = Buffer.alloc(0);
  beforeAll(async () => {
    s = await startServer();
    for (let i = 0; i < 12; i++) await post(s.url, '/execute', { action: 'add', payload: { a: i, b: 1 }, nonce: `sig-${i}` });
    // The url-safe case needs a signature holding '+' or '/'; one of 12 does, all but surely.
    const rows = rawDb(s.app.core).prepare('SELECT seq, signature_bytes FROM receipts WHERE seq > 1 ORDER BY seq').all() as {
      seq: number;
      signature_bytes: Buffer;
    }[];
    const chosen = rows.find((r) => /[+/]/.test(r.signature_bytes.toString('base64')));
    if (!chosen) throw new Error('no receipt signature holds + or /');
    ({ seq, signature_bytes: genuine } = chosen);
    rawDb(s.app.core).exec('DROP TRIGGER receipts_append_only_update');
  });
  afterAll(() => s.stop());

  /** [core verify-ledger: one receipt, whole chain], [console service: one, chain], [renderer]. */
  async function verdicts(): Promise<boolean[]> {
    const db = new Database(rawDb(s.app.core).name, { readonly: true, fileMustExist: true });
    const verifier = new Ed25519Verifier(s.app.core.ledger.publicKey);
    const core = [verifyOneReceipt(db, verifier, seq)?.valid, verifyChain(db, verifier).valid];
    db.close();
    const call = async (method: string, input?: unknown) => (await consoleCall(s.url, s.app.consoleToken, method, input)).body;
    const consoleVerdicts = [(await call('verifyReceipt', { seq })).valid, (await call('verifyChain')).valid];
    const found = (await call('getReceipt', { seq })) as ReceiptWithNeighboursDto;
    const key = (await call('receiptPublicKey')) as { keyId: string; publicKeyPem: string };
    const renderer = await verifyReceipt({ ...found, publicKey: ed25519PublicKeyFromPem(key.publicKeyPem), keyId: key.keyId });
    return [...core, ...consoleVerdicts, renderer.valid].map((v) => v === true);
  }

  const store = (signature: Buffer) =>
    rawDb(s.app.core).prepare('UPDATE receipts SET signature_bytes = ? WHERE seq = ?').run(signature, seq);

  test('the genuine signature is valid everywhere', async () => {
    expect(await verdicts()).toEqual([true, true, true, true, true]);
  });

  for (const [name, corrupt] of Object.entries(CORRUPTIONS)) {
    test(`${name}: refused by all three`, async () => {
      const bad = corrupt(genuine);
      expect(bad.equals(genuine)).toBe(false);
      store(bad);
      try {
        expect(await verdicts()).toEqual([false, false, false, false, false]);
      } finally {
        store(genuine);
      }
    });
  }

  test('the ledger says why', async () => {
    store(Buffer.from(`${genuine.toString('base64')}AAAA`, 'utf8'));
    try {
      const db = new Database(rawDb(s.app.core).name, { readonly: true });
      const r = verifyOneReceipt(db, new Ed25519Verifier(s.app.core.ledger.publicKey), seq);
      db.close();
      expect(r?.problems).toEqual(['signature is not strict base64 of 64 bytes']);
    } finally {
      store(genuine);
    }
    expect(await verdicts()).toEqual([true, true, true, true, true]);
  });
});
