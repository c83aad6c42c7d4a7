/**
 * What every GrantRecords must do, written once and run against the SQLite adapter and the
 * PostgreSQL store: the same calls give the same rows, and with two connections to one
 * database a grant's uses are spent exactly up to its limit and not after it ends.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect } from 'vitest';
import type { GrantRecords } from '../../../../src/main/core/store/grant-records.ts';
import { RecordConflict } from '../../../../src/main/core/store/record-conflict.ts';
import { newGrant } from '../../../support/record-fixtures.ts';
import { recordEngines, useRecordEngine, type RecordEngine } from '../../../support/record-engines.ts';

const grant = newGrant;

/**
 * One use as the dispatch spends it (GrantAuthority.spend): read the count, refuse at the
 * limit, spend guarded by the count read, and read again when another caller moved it first.
 */
async function use(grants: GrantRecords, id: string, limit: number): Promise<boolean> {
  for (;;) {
    const row = await grants.get(id);
    if (row === undefined || row.ended_at !== null || row.uses_spent >= limit) return false;
    if (await grants.spend(id, row.uses_spent)) return true;
  }
}

describe.each(recordEngines('grant_contract'))('GrantRecords contract: $name', (engine: RecordEngine) => {
  const { fresh, it } = useRecordEngine(engine);

  it('stores the signed terms as given; lists live grants oldest first and the latest newest first', async () => {
    const { grants } = await (await fresh()).connect();
    const second = grant(3, { id: 'bbbbbbbb-0000-4000-8000-000000000000', created_at: '2026-01-01T00:00:02.000Z' });
    const first = grant(3, { id: 'aaaaaaaa-0000-4000-8000-000000000000', created_at: '2026-01-01T00:00:01.000Z' });
    const tie = grant(3, { id: 'cccccccc-0000-4000-8000-000000000000', created_at: '2026-01-01T00:00:01.000Z' });
    const other = grant(3, { action: 'other', created_at: '2026-01-01T00:00:03.000Z' });
    for (const g of [second, first, tie, other]) await grants.insert(g);
    expect(await grants.get(first.id)).toEqual({ ...first, uses_spent: 0, ended_at: null, ended_reason: null, ended_seq: null });
    expect(await grants.get(randomUUID())).toBeUndefined();
    expect((await grants.live('greet')).map((g) => g.id)).toEqual([first.id, tie.id, second.id]);
    expect((await grants.live()).map((g) => g.id)).toEqual([first.id, tie.id, second.id, other.id]);
    expect((await grants.latest(3)).map((g) => g.id)).toEqual([other.id, second.id, first.id]);
    await expect(grants.insert(grant(1, { id: first.id }))).rejects.toBeInstanceOf(RecordConflict);
  });

  it('a use is spent against the count read: a stale count spends nothing', async () => {
    const { grants } = await (await fresh()).connect();
    const g = grant(3);
    await grants.insert(g);
    expect(await grants.spend(g.id, 0)).toBe(true);
    expect(await grants.spend(g.id, 0)).toBe(false);
    expect(await grants.spend(g.id, 1)).toBe(true);
    expect((await grants.get(g.id))?.uses_spent).toBe(2);
    expect(await grants.spend(randomUUID(), 0)).toBe(false);
  });

  it('an ending is recorded once, with its receipt; an ended grant is not live and spends nothing', async () => {
    const db = await fresh();
    const { grants } = await db.connect();
    const g = grant(3);
    await grants.insert(g);
    await grants.spend(g.id, 0);
    const seq = await db.receipt();
    expect(await grants.end(g.id, 'revoked', '2026-01-01T00:05:00.000Z', seq)).toBe(true);
    expect(await grants.end(g.id, 'expired', '2026-01-01T00:06:00.000Z', seq)).toBe(false);
    expect(await grants.get(g.id)).toMatchObject({
      uses_spent: 1,
      ended_at: '2026-01-01T00:05:00.000Z',
      ended_reason: 'revoked',
      ended_seq: seq,
    });
    expect(await grants.spend(g.id, 1)).toBe(false);
    expect(await grants.live()).toEqual([]);
    expect((await grants.latest(10)).map((r) => r.id)).toEqual([g.id]);
  });

  it('a grant of 5 uses, used 40 times at once over two connections, is spent exactly 5 times', async () => {
    const db = await fresh();
    const [one, two] = await Promise.all([db.connect(), db.connect()]);
    const g = grant(5);
    await one.grants.insert(g);
    const used = await Promise.all(Array.from({ length: 40 }, (_, i) => use((i % 2 === 0 ? one : two).grants, g.id, 5)));
    expect(used.filter(Boolean)).toHaveLength(5);
    expect((await two.grants.get(g.id))?.uses_spent).toBe(5);
  });

  it('revocation wins against uses racing it: after it, no use is spent, and the uses counted are the ones granted', async () => {
    const db = await fresh();
    const [one, two] = await Promise.all([db.connect(), db.connect()]);
    const g = grant(1000);
    await one.grants.insert(g);
    const seq = await db.receipt();
    const racing = Array.from({ length: 40 }, (_, i) => use((i % 2 === 0 ? one : two).grants, g.id, 1000));
    const revoked = await two.grants.end(g.id, 'revoked', '2026-01-01T00:05:00.000Z', seq);
    const atRevocation = (await one.grants.get(g.id))!.uses_spent;
    const used = await Promise.all(racing);
    expect(revoked).toBe(true);
    expect(used.filter(Boolean)).toHaveLength(atRevocation);
    const after = await Promise.all(Array.from({ length: 10 }, (_, i) => use((i % 2 === 0 ? one : two).grants, g.id, 1000)));
    expect(after.some(Boolean)).toBe(false);
    expect((await one.grants.get(g.id))?.uses_spent).toBe(atRevocation);
  });
});
