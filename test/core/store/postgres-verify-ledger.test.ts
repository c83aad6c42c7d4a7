/**
 * A PostgreSQL ledger two instances wrote, verified as a reviewer does (verifyPostgresLedger:
 * the chain with each instance's registered key, the stored columns, the bodies, the Merkle
 * tree, the side tables), tampered with as the database owner; and its proofs and checkpoints
 * (PostgresLedgerProofs), checked with the verifier the console and bundles use. Real
 * throwaway cluster.
 */
import { describe, expect, test } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Ed25519Signer } from '../../../src/main/core/crypto/ed25519.ts';
import { Refusal } from '../../../src/main/core/errors.ts';
import { ledgerOrigin, signCheckpoint } from '../../../src/main/core/ledger/checkpoint/checkpoint-note.ts';
import { leafHash, StreamingRoot } from '../../../src/main/core/ledger/merkle/rfc9162.ts';
import { registrationDraft } from '../../../src/main/core/store/postgres/pg-receipt-keys.ts';
import { PostgresCheckpointRecords } from '../../../src/main/core/store/postgres/pg-checkpoint-records.ts';
import { verifyRegisteredCheckpoint } from '../../../src/main/core/store/postgres/pg-checkpoints.ts';
import { PostgresMerkleTree } from '../../../src/main/core/store/postgres/pg-merkle-tree.ts';
import { verifyPostgresLedger as verifyOn, type VerifyPostgresOptions } from '../../../src/main/core/store/postgres/pg-verify-ledger.ts';
import { verifyConsistency, verifyInclusion } from '../../../src/shared/merkle-verify.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';
import { asOwnerWithoutTriggers, insertSignedBy, pgLedgerProofs, twoInstanceLedger } from '../../support/pg-ledger-fixture.ts';

/** On this thread: worker threads cannot load our sources under the test runner (bin/openexec's tests run them on threads). */
const verifyPostgresLedger = (url: string, options: VerifyPostgresOptions = {}) => verifyOn(url, { workers: 0, ...options });
const bytes = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
/** Perfect subtrees of two or more leaves in a tree of n leaves: one stored node each. */
const storedNodes = (n: number) =>
  n -
  n
    .toString(2)
    .split('')
    .filter((d) => d === '1').length;

describe.skipIf(!postgresAvailability().ok)('verifying a PostgreSQL ledger written by two instances (real throwaway cluster)', () => {
  const pgs = usePostgres('verify');

  test('it verifies: every receipt by the key registered before it, the bodies, every stored Merkle node, the side tables', async () => {
    const { db, ka, kb, size } = await twoInstanceLedger(pgs);
    const verdict = await verifyPostgresLedger(db.appUrl, { pinnedKeyIds: [ka.keyId, kb.keyId] });
    expect(verdict.chain).toMatchObject({ valid: true, checked: size, firstBadSeq: null, problem: null });
    expect(verdict.chain.keys.map((k) => [k.keyId, k.seq, k.pinned])).toEqual([
      [ka.keyId, 1, true],
      [kb.keyId, 3, true],
    ]);
    expect(verdict.merkle).toEqual({ valid: true, nodes: storedNodes(size), problem: null });
    expect(verdict.sideTableProblems).toEqual([]);
    expect(verdict.server).toBe(`${pgs.cluster.app.user}@127.0.0.1:${pgs.cluster.port}/${db.name}`);
    // A reviewer's role that may only read does: the whole check is SELECTs in a read-only transaction.
    const reviewer = { user: `reviewer_${db.name}`, password: randomBytes(12).toString('hex') };
    await pgs.cluster.superQuery('postgres', `CREATE ROLE ${reviewer.user} LOGIN PASSWORD '${reviewer.password}'`);
    await pgs.pool(db.ownerUrl).query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reviewer.user}`);
    const asReviewer = await verifyPostgresLedger(pgs.cluster.url(reviewer, db.name), { pinnedKeyIds: [ka.keyId, kb.keyId] });
    expect(asReviewer).toMatchObject({ chain: { valid: true, checked: size }, merkle: { valid: true }, sideTableProblems: [] });

    // Pinning only one instance refuses the other's registration.
    expect((await verifyPostgresLedger(db.appUrl, { pinnedKeyIds: [ka.keyId] })).chain).toMatchObject({
      valid: false,
      firstBadSeq: 3,
      problem: `registers receipt key ${kb.keyId}, which is not pinned`,
    });
  });

  test('a stored column, a body, a Merkle node or a side table changed by the owner is caught, each naming the row', async () => {
    const cases: [string, string[], string, (v: Awaited<ReturnType<typeof verifyPostgresLedger>>) => void][] = [
      [
        'a column',
        ['receipts'],
        "UPDATE receipts SET action = 'rm-rf' WHERE seq = 4",
        (v) =>
          expect(v.chain).toMatchObject({
            valid: false,
            firstBadSeq: 4,
            checked: 3,
            problem: 'stored action differs from the signed body',
          }),
      ],
      [
        'the agent column (PostgreSQL only)',
        ['receipts'],
        "UPDATE receipts SET agent = 'agent-b' WHERE seq = 2",
        (v) => expect(v.chain).toMatchObject({ valid: false, firstBadSeq: 2, problem: 'stored agent differs from the signed body' }),
      ],
      [
        'a body',
        ['receipt_bodies'],
        `UPDATE receipt_bodies SET body = '{"name":"eve"}' WHERE seq = 2 AND field = 'payload'`,
        (v) => {
          expect(v.chain.valid).toBe(true);
          expect(v.sideTableProblems).toEqual(["receipt 2's payload body does not hash to its salted hash"]);
        },
      ],
      [
        'a Merkle node',
        ['merkle_nodes'],
        "UPDATE merkle_nodes SET hash = sha256('x') WHERE level = 2 AND idx = 1",
        (v) =>
          expect(v.merkle).toMatchObject({ valid: false, problem: 'Merkle node 2/1 (receipts 5 to 8) is not the hash of those receipts' }),
      ],
      [
        'an extra Merkle node',
        [],
        "INSERT INTO merkle_nodes (level, idx, hash) VALUES (1, 1000, sha256('x'))",
        (v) => expect(v.merkle.problem).toMatch(/^the tree stores 33 nodes, but the 35 receipts make 32/),
      ],
      [
        'a spent nonce marked ended without its receipt',
        [],
        "INSERT INTO executions (id, nonce, request_hash, action, status, approved, created_at) VALUES ('e-x', 'n-x', 'h', 'greet', 'executed', 1, 'now')",
        (v) => expect(v.sideTableProblems).toEqual(['execution e-x does not match its receipt (none)']),
      ],
    ];
    for (const [what, tables, sql, expectation] of cases) {
      const { db } = await twoInstanceLedger(pgs);
      await asOwnerWithoutTriggers(pgs.pool(db.ownerUrl), tables, sql);
      const verdict = await verifyPostgresLedger(db.appUrl);
      expect({ what, verdict }).toMatchObject({ what });
      expectation(verdict);
    }
  });

  test('after a purge by instance B the whole check still passes; a purged body put back is caught', async () => {
    const { db, b, ka, kb, size } = await twoInstanceLedger(pgs);
    // Every receipt so far is older than a cut-off a minute from now.
    const purge = await b.purgeOlderThan(Date.now() + 60_000, 'operator');
    expect(purge).toMatchObject({ receiptSeq: size + 1, receipts: expect.any(Number) });
    expect(purge.bodies).toBeGreaterThan(0);
    const verdict = await verifyPostgresLedger(db.appUrl, { pinnedKeyIds: [ka.keyId, kb.keyId] });
    expect(verdict).toMatchObject({ chain: { valid: true, checked: size + 1 }, merkle: { valid: true }, bodyProblems: [] });
    expect(verdict.sideTableProblems).toEqual([]);
    // A purged body written back (salt and text, still marked purged) no longer passes for purged.
    await asOwnerWithoutTriggers(
      pgs.pool(db.ownerUrl),
      ['receipt_bodies'],
      "UPDATE receipt_bodies SET purged_at = NULL, purge_seq = NULL, salt = decode(repeat('00', 32), 'hex'), body = 'forged' WHERE seq = 2 AND field = 'payload'",
    );
    const after = await verifyPostgresLedger(db.appUrl, { pinnedKeyIds: [ka.keyId, kb.keyId] });
    expect(after.bodyProblems.join('\n')).toMatch(/receipt 2's payload body does not hash to its salted hash/);
  });

  test('a receipt signed by an unregistered key, or a dropped receipt, is caught', async () => {
    const forged = await twoInstanceLedger(pgs);
    const stranger = Ed25519Signer.generate();
    const seq = await insertSignedBy(pgs.pool(forged.db.ownerUrl), forged.a, { event: 'config', reason: 'not ours' }, stranger);
    expect((await verifyPostgresLedger(forged.db.appUrl)).chain).toMatchObject({
      valid: false,
      firstBadSeq: seq,
      problem: `signed by a receipt key that is not registered (${stranger.keyId})`,
    });

    // A registration whose own signature fails, followed by receipts its key signs: the verdict
    // stops at the registration, and the key is not among those the ledger registered.
    const badRegistration = await twoInstanceLedger(pgs);
    const owner = pgs.pool(badRegistration.db.ownerUrl);
    const registration = await insertSignedBy(owner, badRegistration.a, registrationDraft(stranger), stranger);
    await asOwnerWithoutTriggers(owner, ['receipts'], `UPDATE receipts SET signature = $1 WHERE seq = ${registration}`, [
      Buffer.alloc(64).toString('base64'),
    ]);
    await insertSignedBy(owner, badRegistration.a, { event: 'config', reason: 'by the stranger' }, stranger);
    const afterBad = await verifyPostgresLedger(badRegistration.db.appUrl);
    expect(afterBad.chain).toMatchObject({
      valid: false,
      firstBadSeq: registration,
      checked: registration - 1,
      problem: 'signature does not verify with the receipt key',
    });
    expect(afterBad.chain.keys.map((k) => k.keyId)).toEqual([badRegistration.ka.keyId, badRegistration.kb.keyId]);

    const dropped = await twoInstanceLedger(pgs);
    // Its search words go with it (they reference it); an owner can drop both.
    await asOwnerWithoutTriggers(
      pgs.pool(dropped.db.ownerUrl),
      ['receipts', 'receipt_search'],
      'DELETE FROM receipt_search WHERE seq = 5; DELETE FROM receipts WHERE seq = 5',
    );
    const verdict = await verifyPostgresLedger(dropped.db.appUrl);
    expect(verdict.chain).toMatchObject({ valid: false, firstBadSeq: 6, checked: 4, problem: 'sequence gap: expected 5, found 6' });
    // The stored tree still holds the receipt that went: its nodes are not the remaining receipts'.
    expect(verdict.merkle.valid).toBe(false);
  });

  test('proofs from the stored tree verify with the console’s verifier, against a checkpoint signed by instance B', async () => {
    const { db, a, b, kb, ka, size } = await twoInstanceLedger(pgs);
    const pool = pgs.pool(db.appUrl);
    const instanceA = pgLedgerProofs(pool, a, ka);
    const instanceB = pgLedgerProofs(pool, b, kb);
    const [proofsA, proofsB] = [instanceA.proofs, instanceB.proofs];
    const first = await instanceB.checkpoints.issue();
    expect(first.size).toBe(size);
    expect(first.note.startsWith(`${ledgerOrigin(kb.keyId)}\n${size}\n`)).toBe(true);
    // Nothing was added since: A returns B's checkpoint rather than a second one of that size.
    expect(await instanceA.checkpoints.issue()).toMatchObject({ size, note: first.note });

    const keys = (await verifyPostgresLedger(db.appUrl)).chain.keys;
    const checkpoint = verifyRegisteredCheckpoint(first.note, keys);
    expect(checkpoint.keyId).toBe(kb.keyId);
    // The root is the one the receipts' own hashes make.
    const stream = new StreamingRoot();
    for (const r of await a.readRange(1, size)) stream.push(leafHash(bytes(r.hash)));
    expect(Buffer.from(checkpoint.root).toString('hex')).toBe(Buffer.from(stream.root()).toString('hex'));

    for (let seq = 1; seq <= size; seq++) {
      const proof = await proofsA.inclusion(seq);
      expect(proof.tree_size).toBe(size);
      expect(await verifyInclusion(seq - 1, size, bytes(proof.leaf_hash), proof.proof.map(bytes), checkpoint.root)).toBe(true);
    }

    // The ledger grows; A's next checkpoint extends B's, which a consistency proof shows.
    await b.witness((tx) => tx.append({ event: 'config', reason: 'later' }));
    await a.witness((tx) => tx.append({ event: 'config', reason: 'later still' }));
    const second = verifyRegisteredCheckpoint((await instanceA.checkpoints.issue()).note, keys);
    expect(second).toMatchObject({ size: size + 2, keyId: ka.keyId });
    expect((await proofsB.latestCheckpoint()).size).toBe(size + 2);
    for (let from = 0; from <= size + 2; from++) {
      const c = await proofsB.consistency(from, size + 2);
      expect(c.to_root).toBe(Buffer.from(second.root).toString('hex'));
      expect(await verifyConsistency(from, size + 2, bytes(c.from_root), bytes(c.to_root), c.proof.map(bytes))).toBe(true);
    }
    expect((await proofsB.consistency(size)).from_root).toBe(Buffer.from(checkpoint.root).toString('hex'));
    // verify-ledger checks the checkpoints the instances stored: both signed by registered keys, both extended.
    expect((await verifyPostgresLedger(db.appUrl)).stored).toEqual({ count: 2, problem: null });
    await expect(proofsA.inclusion(size + 3)).rejects.toThrow(Refusal);
    await expect(proofsA.consistency(0, size + 3)).rejects.toThrow(`to ${size + 3} is larger than the ledger (${size + 2} receipts)`);
  });

  test('a checkpoint signed by an unregistered key, or by a key registered after it, does not verify; an unregistered instance cannot issue one', async () => {
    const { db, kb, size } = await twoInstanceLedger(pgs);
    const pool = pgs.pool(db.appUrl);
    const keys = (await verifyPostgresLedger(db.appUrl)).chain.keys;
    const tree = new PostgresMerkleTree(pool);
    const root = await tree.root(size);

    const stranger = Ed25519Signer.generate();
    const forged = signCheckpoint({ origin: ledgerOrigin(stranger.keyId), size, root }, stranger);
    expect(() => verifyRegisteredCheckpoint(forged, keys)).toThrow(
      `checkpoint is signed for receipt key ${stranger.keyId}, which the ledger does not register`,
    );
    // A registered key's name, signed by another key.
    const misnamed = signCheckpoint({ origin: ledgerOrigin(kb.keyId), size, root }, stranger);
    expect(() => verifyRegisteredCheckpoint(misnamed, keys)).toThrow('checkpoint signature does not verify with the receipt key');
    // B registered at receipt 3: a checkpoint of two receipts cannot be B's.
    const early = signCheckpoint({ origin: ledgerOrigin(kb.keyId), size: 2, root: await tree.root(2) }, kb);
    expect(() => verifyRegisteredCheckpoint(early, keys)).toThrow(`registered only at receipt 3`);
    // Pinned to A only, B's checkpoints are not trusted either.
    const pinnedA = (await verifyPostgresLedger(db.appUrl, { pinnedKeyIds: [keys[0]!.keyId] })).chain.keys;
    const fromB = signCheckpoint({ origin: ledgerOrigin(kb.keyId), size, root }, kb);
    expect(() => verifyRegisteredCheckpoint(fromB, pinnedA)).toThrow('which the ledger does not register');

    // Its own instance, opened on the ledger, which has not appended yet.
    const newcomer = pgLedgerProofs(pool, await pgs.openStore(db, { signer: stranger }), stranger).checkpoints;
    await expect(newcomer.issue()).rejects.toThrow(`receipt key ${stranger.keyId} is not registered`);

    // Stored in the checkpoints table (the app role may insert one), each is a verify-ledger failure.
    const records = new PostgresCheckpointRecords(pool);
    await records.insert({ size, root, note: forged, createdAt: new Date().toISOString() });
    expect((await verifyPostgresLedger(db.appUrl)).stored).toEqual({
      count: 1,
      problem: `the checkpoint of size ${size} in the checkpoints table: checkpoint is signed for receipt key ${stranger.keyId}, which the ledger does not register`,
    });
    // A registered key signing a tree this ledger does not extend (a fork), stored in another ledger of the same keys' making.
    const other = await twoInstanceLedger(pgs);
    const forkRoot = new Uint8Array(randomBytes(32));
    const forkNote = signCheckpoint({ origin: ledgerOrigin(other.kb.keyId), size: other.size, root: forkRoot }, other.kb);
    await new PostgresCheckpointRecords(pgs.pool(other.db.appUrl)).insert({
      size: other.size,
      root: forkRoot,
      note: forkNote,
      createdAt: 'x',
    });
    expect((await verifyPostgresLedger(other.db.appUrl)).stored).toEqual({
      count: 1,
      problem: `the ledger's first ${other.size} receipts are not the ones checkpoint of size ${other.size} in the checkpoints table covers: they were rewritten (a fork)`,
    });
  });
});
