/**
 * What every ProposalRecords must do, written once and run against the SQLite adapter and the
 * PostgreSQL store: the same calls give the same rows, and the races end the same way with two
 * connections to one database.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { NewProposal, ProposalDecision } from '../../../../src/main/core/store/proposal-records.ts';
import { RecordConflict } from '../../../../src/main/core/store/record-conflict.ts';
import { newProposal } from '../../../support/record-fixtures.ts';
import { recordEngines, useRecordEngine, type RecordEngine } from '../../../support/record-engines.ts';

const proposal = newProposal;

const decision = (receiptSeq: number, over: Partial<ProposalDecision> = {}): ProposalDecision => ({
  status: 'executed',
  decidedAt: '2026-01-01T00:30:00.000Z',
  reason: null,
  result: '{"ok":true}',
  execId: null,
  approvalId: null,
  receiptSeq,
  ...over,
});

const pendingRow = (p: NewProposal) => ({
  ...p,
  status: 'pending',
  decided_at: null,
  reason: null,
  result: null,
  exec_id: null,
  approval_id: null,
  receipt_seq: null,
  purged_at: null,
});

describe.each(recordEngines('proposal_contract'))('ProposalRecords contract: $name', (engine: RecordEngine) => {
  const { fresh, it } = useRecordEngine(engine);

  it('stores a proposal pending and lists, counts and finds it as stored', async () => {
    const { proposals } = await (await fresh()).connect();
    const later = proposal({ created_at: '2026-01-01T00:00:02.000Z', context: 'why', agent: 'bot-1', action_def_hash: 'd'.repeat(64) });
    const b = proposal({ id: 'bbbbbbbb-0000-4000-8000-000000000000', created_at: '2026-01-01T00:00:01.000Z' });
    const a = proposal({ id: 'aaaaaaaa-0000-4000-8000-000000000000', created_at: '2026-01-01T00:00:01.000Z' });
    for (const p of [later, b, a]) await proposals.insert(p);
    expect(await proposals.get(later.id)).toEqual(pendingRow(later));
    expect(await proposals.findByNonce(a.nonce)).toEqual(pendingRow(a));
    expect(await proposals.get(randomUUID())).toBeUndefined();
    expect(await proposals.findByNonce('never')).toBeUndefined();
    expect((await proposals.listPending()).map((p) => p.id)).toEqual([a.id, b.id, later.id]);
    expect(await proposals.countPending()).toBe(3);
  });

  it('one proposal per nonce and per id: a second is a RecordConflict, and of 20 racing on two connections one wins', async () => {
    const db = await fresh();
    const [one, two] = await Promise.all([db.connect(), db.connect()]);
    const first = proposal();
    await one.proposals.insert(first);
    await expect(two.proposals.insert(proposal({ nonce: first.nonce }))).rejects.toBeInstanceOf(RecordConflict);
    await expect(two.proposals.insert(proposal({ id: first.id }))).rejects.toBeInstanceOf(RecordConflict);

    const nonce = randomUUID();
    const racers = Array.from({ length: 20 }, () => proposal({ nonce }));
    const outcomes = await Promise.allSettled(racers.map((p, i) => (i % 2 === 0 ? one : two).proposals.insert(p)));
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [racers[i]!.id] : []));
    expect(won).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(RecordConflict);
    expect((await two.proposals.findByNonce(nonce))?.id).toBe(won[0]);
    expect(await one.proposals.countPending()).toBe(2);
  });

  it('a decision closes a pending proposal once; later decisions, claims and extensions change nothing', async () => {
    const db = await fresh();
    const { proposals } = await db.connect();
    const p = proposal();
    await proposals.insert(p);
    const seq = await db.receipt();
    expect(await proposals.decide(p.id, decision(seq, { reason: 'fine', approvalId: 'ap-1', execId: 'ex-1' }))).toBe(true);
    const decided = {
      ...pendingRow(p),
      status: 'executed',
      decided_at: '2026-01-01T00:30:00.000Z',
      reason: 'fine',
      result: '{"ok":true}',
      exec_id: 'ex-1',
      approval_id: 'ap-1',
      receipt_seq: seq,
    };
    expect(await proposals.get(p.id)).toEqual(decided);
    expect(await proposals.decide(p.id, decision(seq, { status: 'denied' }))).toBe(false);
    expect(await proposals.claim(p.id, 'ex-2', null)).toBe(false);
    expect(await proposals.extend(p.id, p.expires_at, '2026-01-02T00:00:00.000Z')).toBe(false);
    expect(await proposals.get(p.id)).toEqual(decided);
    expect(await proposals.countPending()).toBe(0);
    expect(await proposals.decide(randomUUID(), decision(seq))).toBe(false);
  });

  it('one decision per proposal: of 20 racing on two connections exactly one is taken, and the row is its', async () => {
    const db = await fresh();
    const [one, two] = await Promise.all([db.connect(), db.connect()]);
    const p = proposal();
    await one.proposals.insert(p);
    const seq = await db.receipt();
    const statuses = ['executed', 'denied', 'expired', 'failed'] as const;
    const tries = Array.from({ length: 20 }, (_, i) => decision(seq, { status: statuses[i % 4]!, reason: `try ${i}` }));
    const taken = await Promise.all(tries.map((d, i) => (i % 2 === 0 ? one : two).proposals.decide(p.id, d)));
    expect(taken.filter(Boolean)).toHaveLength(1);
    const winner = tries[taken.indexOf(true)]!;
    expect(await two.proposals.get(p.id)).toMatchObject({ status: winner.status, reason: winner.reason });
  });

  it('a claim holds a proposal for its execution: only that execution decides it, and expiry passes it by', async () => {
    const db = await fresh();
    const [one, two] = await Promise.all([db.connect(), db.connect()]);
    const p = proposal({ expires_at: '2026-01-01T00:10:00.000Z' });
    const q = proposal({ expires_at: '2026-01-01T00:05:00.000Z' });
    await one.proposals.insert(p);
    await one.proposals.insert(q);
    const claims = await Promise.all([one.proposals.claim(p.id, 'ex-a', 'ap-a'), two.proposals.claim(p.id, 'ex-b', null)]);
    expect(claims.filter(Boolean)).toHaveLength(1);
    const execId = claims[0] ? 'ex-a' : 'ex-b';
    const other = claims[0] ? 'ex-b' : 'ex-a';
    expect(await one.proposals.get(p.id)).toMatchObject({ status: 'pending', exec_id: execId, approval_id: claims[0] ? 'ap-a' : null });
    expect((await two.proposals.listClaimedPending()).map((r) => r.id)).toEqual([p.id]);
    expect((await two.proposals.dueForExpiry('2026-01-02T00:00:00.000Z')).map((r) => r.id)).toEqual([q.id]);
    expect(await one.proposals.extend(p.id, p.expires_at, '2026-01-03T00:00:00.000Z')).toBe(false);
    const seq = await db.receipt();
    expect(await two.proposals.decide(p.id, decision(seq, { status: 'expired' }))).toBe(false);
    expect(await two.proposals.decide(p.id, decision(seq, { execId: other }))).toBe(false);
    expect(await one.proposals.decide(p.id, decision(seq, { execId }))).toBe(true);
    expect(await one.proposals.listClaimedPending()).toEqual([]);
  });

  it('expiry: due proposals in expiry order; an extension moves only the expiry it read', async () => {
    const { proposals } = await (await fresh()).connect();
    const late = proposal({ expires_at: '2026-01-01T00:20:00.000Z' });
    const early = proposal({ expires_at: '2026-01-01T00:10:00.000Z' });
    const notYet = proposal({ expires_at: '2026-01-01T02:00:00.000Z' });
    for (const p of [late, early, notYet]) await proposals.insert(p);
    expect((await proposals.dueForExpiry('2026-01-01T00:20:00.000Z')).map((r) => r.id)).toEqual([early.id, late.id]);
    expect(await proposals.extend(early.id, '2026-01-01T00:09:00.000Z', '2026-01-01T03:00:00.000Z')).toBe(false);
    expect(await proposals.extend(early.id, early.expires_at, '2026-01-01T03:00:00.000Z')).toBe(true);
    expect(await proposals.extend(early.id, early.expires_at, '2026-01-01T04:00:00.000Z')).toBe(false);
    expect((await proposals.get(early.id))?.expires_at).toBe('2026-01-01T03:00:00.000Z');
    expect((await proposals.dueForExpiry('2026-01-01T00:20:00.000Z')).map((r) => r.id)).toEqual([late.id]);
  });

  it('the last executed proposal of an action, other than the one asked about', async () => {
    const db = await fresh();
    const { proposals } = await db.connect();
    const seq = await db.receipt();
    const older = proposal({ payload: '{"n":1}' });
    const newer = proposal({ payload: '{"n":2}' });
    const denied = proposal({ payload: '{"n":3}' });
    const elsewhere = proposal({ action: 'other' });
    for (const p of [older, newer, denied, elsewhere]) await proposals.insert(p);
    await proposals.decide(older.id, decision(seq, { decidedAt: '2026-01-01T00:01:00.000Z' }));
    await proposals.decide(newer.id, decision(seq, { decidedAt: '2026-01-01T00:02:00.000Z' }));
    await proposals.decide(denied.id, decision(seq, { status: 'denied', decidedAt: '2026-01-01T00:03:00.000Z' }));
    await proposals.decide(elsewhere.id, decision(seq, { decidedAt: '2026-01-01T00:04:00.000Z' }));
    expect(await proposals.lastExecuted('greet', denied.id)).toEqual({
      id: newer.id,
      payload: '{"n":2}',
      decidedAt: '2026-01-01T00:02:00.000Z',
    });
    expect(await proposals.lastExecuted('greet', newer.id)).toEqual({
      id: older.id,
      payload: '{"n":1}',
      decidedAt: '2026-01-01T00:01:00.000Z',
    });
    expect(await proposals.lastExecuted('nothing', newer.id)).toBeNull();
  });

  it('a quorum: one approval per (proposal, key), kept in receipt order; of 10 racing for one key one is kept', async () => {
    const db = await fresh();
    const [one, two] = await Promise.all([db.connect(), db.connect()]);
    const p = proposal();
    await one.proposals.insert(p);
    const [s1, s2] = [await db.receipt(), await db.receipt()];
    await one.proposals.recordApproval(p.id, 'key-b', 'bob', '2026-01-01T00:01:00.000Z', s1);
    await two.proposals.recordApproval(p.id, 'key-a', 'alice', '2026-01-01T00:02:00.000Z', s2);
    await expect(one.proposals.recordApproval(p.id, 'key-a', 'alice', '2026-01-01T00:03:00.000Z', s2)).rejects.toBeInstanceOf(
      RecordConflict,
    );
    expect(await two.proposals.approvalKeys(p.id)).toEqual(['key-b', 'key-a']);
    expect(await two.proposals.approvalKeys(randomUUID())).toEqual([]);
    expect(await one.proposals.approvalsOf(p.id)).toEqual([
      { operator: 'bob', keyId: 'key-b', approvedAt: '2026-01-01T00:01:00.000Z' },
      { operator: 'alice', keyId: 'key-a', approvedAt: '2026-01-01T00:02:00.000Z' },
    ]);
    expect(await one.proposals.approvalsOf(randomUUID())).toEqual([]);

    const s3 = await db.receipt();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).proposals.recordApproval(p.id, 'key-c', `op ${i}`, 'now', s3)),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(RecordConflict);
    expect(await one.proposals.approvalKeys(p.id)).toEqual(['key-b', 'key-a', 'key-c']);
  });
});
