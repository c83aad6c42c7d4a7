import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { afterEach, expect, test } from 'vitest';
import { tempDir } from '../support/harness.ts';
import { openDatabase, type SqliteDatabase } from '../../src/main/core/store/database.ts';
import { Ledger } from '../../src/main/core/ledger/ledger.ts';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { systemClock } from '../../src/main/core/clock.ts';
import { randomSalt, SALT_BYTES, saltedHash } from '../../src/main/core/ledger/receipt-bodies.ts';

let dir: string | null = null;
let db: SqliteDatabase | null = null;
afterEach(() => {
  db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  db = dir = null;
});

test('salts come out of batched draws, yet each is 32 bytes of its own, never handed out twice', () => {
  // More than two draws' worth, so salts from either side of a refill are compared too.
  const salts = Array.from({ length: 300 }, () => randomSalt('payload', 'x'));
  expect(salts.every((s) => s.length === SALT_BYTES)).toBe(true);
  expect(new Set(salts.map((s) => s.toString('hex'))).size).toBe(salts.length);
});

test('the salted hash is sha256 of the salt bytes then the UTF-8 text (docs/receipts.md)', () => {
  const salt = Buffer.alloc(SALT_BYTES, 7);
  const text = '{"note":"é ✓"}';
  expect(saltedHash(salt, text)).toBe(createHash('sha256').update(salt).update(text, 'utf8').digest('hex'));
});

test('a receipt stores all its bodies in one go, each with its own salt, read back in field order', () => {
  dir = tempDir();
  db = openDatabase(join(dir, 'ledger.db'), { synchronous: 'NORMAL' });
  const ledger = new Ledger(db, Ed25519Signer.generate(), systemClock);
  const drafts = [
    { event: 'executed' as const, action: 'add', payload: { a: 1n }, context: 'ctx', result: '{"sum":1}' },
    { event: 'refused' as const, action: 'add', preview: { bytes: 9n } },
    { event: 'config' as const },
  ];
  const receipts = ledger.witness(() => drafts.map((d) => ledger.append(d)));
  expect(receipts.map((r) => ledger.bodies.of(r.seq).map((b) => b.field))).toEqual([['payload', 'context', 'result'], ['preview'], []]);
  const first = ledger.bodies.of(receipts[0]!.seq);
  expect(first.map((b) => b.text)).toEqual(['{"a":1}', 'ctx', '{"sum":1}']);
  expect(new Set(first.map((b) => b.salt)).size).toBe(3);
  expect(first).toEqual(receipts[0]!.bodies);
  for (const b of first)
    expect(JSON.parse(receipts[0]!.body).salted_hashes[b.field]).toBe(saltedHash(Buffer.from(b.salt!, 'hex'), b.text!));
});
