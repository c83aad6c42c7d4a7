/**
 * What every LedgerStore's reads (LedgerReads) must answer, written once and run against the
 * SQLite ledger and PostgreSQL (a throwaway cluster), each written by the engine: one receipt
 * with its neighbours, one receipt verified (and the same receipt tampered with), and the
 * `config` receipts start-up looks for, also inside a witnessed write.
 */
import { describe, expect } from 'vitest';
import { approverKeyMap } from '../../../src/main/core/approval/check-evidence.ts';
import { Ed25519Signer, Ed25519Verifier } from '../../../src/main/core/crypto/ed25519.ts';
import type { JsonObject } from '../../../src/main/core/json/json-value.ts';
import { parseJson } from '../../../src/main/core/json/parse.ts';
import type { LedgerStore, LedgerTransaction } from '../../../src/main/core/store/ledger-store.ts';
import { TestApprover } from '../../support/clawshield.ts';
import { engineSetups, useEngines, type EngineDatabase, type EngineSetup } from '../../support/engine-instances.ts';

const approver = new TestApprover();
const PAYLOAD = '{"name":"ada"}';
const greet = async (p: JsonObject) => ({ hello: p['name']! });

/** A config receipt of `kind`, naming `keyId` as its approver key. */
const config = (kind: string, keyId: string, reason: string) => ({
  event: 'config' as const,
  approver: 'operator',
  approver_key_id: keyId,
  reason,
  details: { kind, note: reason },
});

/** An executed greeting with its approval evidence, a refusal, and config receipts of two kinds. */
async function written(db: EngineDatabase): Promise<{ ledger: LedgerStore; head: number; executedSeq: number }> {
  const { engine, ledger } = await db.instance({ greet });
  const payload = parseJson(PAYLOAD) as JsonObject;
  const executed = await engine.execute({
    action: 'greet',
    payload,
    nonce: 'n-1',
    artifact: approver.mint('greet', PAYLOAD),
    agent: 'builder',
  });
  expect(executed.kind).toBe('executed');
  await engine.execute({ action: 'greet', payload, nonce: 'n-2', artifact: null });
  await ledger.witness((tx) => tx.append(config('k1', 'a'.repeat(16), 'first k1')));
  await ledger.witness((tx) => tx.append(config('k2', 'b'.repeat(16), 'the k2')));
  await ledger.witness((tx) => tx.append(config('k1', 'c'.repeat(16), 'second k1')));
  const every = await ledger.readRange(1, 1000);
  return { ledger, head: every.length, executedSeq: every.find((r) => r.event === 'executed')!.seq };
}

describe.each(engineSetups('reads_contract'))('LedgerReads contract: $name', (setup: EngineSetup) => {
  const { fresh, it } = useEngines(setup, approver);

  it('a receipt with its neighbours is what the ledger holds either side of it, bodies and agent too', async () => {
    const { ledger, head, executedSeq } = await written(await fresh());
    const at = async (seq: number) => (await ledger.readRange(seq, 1))[0] ?? null;
    for (const seq of [1, executedSeq, head]) {
      expect(await ledger.reads.withNeighbours(seq)).toEqual({
        receipt: await at(seq),
        previous: seq === 1 ? null : await at(seq - 1),
        next: seq === head ? null : await at(seq + 1),
      });
    }
    const executed = (await ledger.reads.withNeighbours(executedSeq))!.receipt;
    expect(executed).toMatchObject({ event: 'executed', agent: 'builder' });
    expect(executed.bodies?.map((b) => b.field)).toEqual(['payload', 'result']);
    expect(await ledger.reads.withNeighbours(head + 1)).toBeNull();
    expect(await ledger.reads.withNeighbours(0)).toBeNull();
  });

  it('every receipt verifies, its approval evidence with the approver keys given; a body changed afterwards does not', async () => {
    const db = await fresh();
    const { ledger, head, executedSeq } = await written(db);
    const approvers = approverKeyMap([new Ed25519Verifier(approver.signer.publicKey)]);
    const valid = { hashValid: true, signatureValid: true, linkValid: true, inLedger: true, valid: true, problems: [] };
    for (let seq = 1; seq <= head; seq++) {
      expect(await ledger.reads.verifyOne(seq, null)).toEqual({ seq, ...valid });
      expect(await ledger.reads.verifyOne(seq, approvers)).toEqual({ seq, ...valid });
    }
    expect(await ledger.reads.verifyOne(head + 1, null)).toBeNull();
    // Evidence whose signer is not among the approver keys given does not verify.
    const stranger = approverKeyMap([new Ed25519Verifier(Ed25519Signer.generate().publicKey)]);
    const unknown = await ledger.reads.verifyOne(executedSeq, stranger);
    expect(unknown).toMatchObject({ hashValid: true, signatureValid: true, linkValid: true, valid: false });
    expect(unknown!.problems).toHaveLength(1);

    await db.tamper(executedSeq, '"action":"greet"', '"action":"grab"');
    const tampered = await ledger.reads.verifyOne(executedSeq, null);
    expect(tampered).toMatchObject({ seq: executedSeq, hashValid: false, signatureValid: false, linkValid: true, valid: false });
    expect(tampered!.problems[0]).toBe('hash does not match the receipt body');
    // The next one links to the stored hash, which did not change.
    expect(await ledger.reads.verifyOne(executedSeq + 1, null)).toEqual({ seq: executedSeq + 1, ...valid });
  });

  it('the chain verifies in chunks and by its tail, side tables held to it; a changed body stops both at its seq', async () => {
    const db = await fresh();
    const { ledger, head, executedSeq } = await written(db);
    const approvers = approverKeyMap([new Ed25519Verifier(approver.signer.publicKey)]);
    const whole = await ledger.reads.verifyRange(1, 1000, approvers);
    expect(whole).toEqual({ fromSeq: 1, checked: head, nextSeq: null, lastSeq: head, valid: true, firstBadSeq: null, problem: null });
    // Chunks of two, each linked to the one before it, cover the chain once.
    let checked = 0;
    for (let from: number | null = 1; from !== null;) {
      const chunk = await ledger.reads.verifyRange(from, 2, approvers);
      expect(chunk).toMatchObject({ fromSeq: from, valid: true, lastSeq: head });
      checked += chunk.checked;
      from = chunk.nextSeq;
    }
    expect(checked).toBe(head);
    expect(await ledger.reads.verifyTail(2)).toEqual({ valid: true, checked: 2, firstBadSeq: null, problem: null });
    expect(await ledger.reads.verifyTail(1000)).toEqual({ valid: true, checked: head, firstBadSeq: null, problem: null });
    expect(await ledger.reads.sideTableProblems(5)).toEqual([]);
    expect(await ledger.reads.lastBackup()).toBeNull();
    await expect(ledger.reads.verifyRange(head + 1, 10, null)).rejects.toMatchObject({ code: 'not_found' });

    await db.tamper(executedSeq, '"action":"greet"', '"action":"grab"');
    const broken = await ledger.reads.verifyRange(1, 1000, null);
    expect(broken).toMatchObject({ valid: false, checked: executedSeq - 1, firstBadSeq: executedSeq, nextSeq: null });
    expect(broken.problem).toMatch(/hash does not match the receipt body/);
    expect(await ledger.reads.verifyTail(head - executedSeq + 1)).toMatchObject({ valid: false, firstBadSeq: executedSeq });
    // A chunk that starts after it still holds: its first link is to the stored hash.
    expect(await ledger.reads.verifyRange(executedSeq + 1, 1000, null)).toMatchObject({ valid: true, checked: head - executedSeq });
  });

  it('the newest config receipt of a kind, and whether one of a kind names an approver key', async () => {
    const { ledger, head } = await written(await fresh());
    const newest = await ledger.reads.latestConfig('k1');
    const receipt = (await ledger.readRange(head, 1))[0]!;
    expect(newest).toEqual({ seq: head, time: receipt.time, body: receipt.body });
    expect((await ledger.reads.latestConfig('k2'))?.seq).toBe(head - 1);
    expect(await ledger.reads.latestConfig('k3')).toBeNull();
    expect(await ledger.reads.hasConfigBy('k1', 'a'.repeat(16))).toBe(true);
    expect(await ledger.reads.hasConfigBy('k1', 'c'.repeat(16))).toBe(true);
    expect(await ledger.reads.hasConfigBy('k1', 'b'.repeat(16))).toBe(false);
    expect(await ledger.reads.hasConfigBy('k2', 'b'.repeat(16))).toBe(true);
    expect(await ledger.reads.hasConfigBy('k3', 'a'.repeat(16))).toBe(false);
  });

  it('within a witnessed write the reads see its piece so far; a handle is refused once its piece has ended', async () => {
    const { ledger, head } = await written(await fresh());
    const seen = await ledger.witness(async (tx) => {
      const appended = await tx.append(config('k1', 'd'.repeat(16), 'third k1'));
      const reads = ledger.reads.within(tx);
      return { appended: appended.seq, latest: await reads.latestConfig('k1'), by: await reads.hasConfigBy('k1', 'd'.repeat(16)) };
    });
    expect(seen).toMatchObject({ appended: head + 1, latest: { seq: head + 1 }, by: true });
    let kept: LedgerTransaction | undefined;
    await ledger.witness(async (tx) => {
      kept = tx;
    });
    await expect((async () => ledger.reads.within(kept!).latestConfig('k1'))()).rejects.toThrow(/already ended/);
  });

  (setup.keyPerInstance ? it : it.skip)('PostgreSQL: a receipt is verified with the key of the instance that signed it', async () => {
    const db = await fresh();
    const one = await db.instance({ greet });
    const two = await db.instance({ greet });
    const mine = await one.ledger.witness((tx) => tx.append(config('k1', 'a'.repeat(16), 'by one')));
    const theirs = await two.ledger.witness((tx) => tx.append(config('k1', 'b'.repeat(16), 'by two')));
    // Each instance's registration, then its receipt.
    expect([mine.seq, theirs.seq]).toEqual([2, 4]);
    for (let seq = 1; seq <= 4; seq++) expect(await one.ledger.reads.verifyOne(seq, null)).toMatchObject({ valid: true });
    expect(await two.ledger.reads.verifyOne(4, null)).toMatchObject({ valid: true });
    // A chunk signed by both keys, each registered before its receipts.
    expect(await two.ledger.reads.verifyRange(1, 10, null)).toMatchObject({ valid: true, checked: 4, nextSeq: null });
    expect(await one.ledger.reads.verifyRange(3, 10, null)).toMatchObject({ valid: true, checked: 2 });
  });
});
