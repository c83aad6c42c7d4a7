/**
 * What every AgentRecords, ToolPinRecords, SettingRecords and CheckpointRecords must do, each
 * suite written once and run against the SQLite adapter and the PostgreSQL store (one cluster
 * for the file): the same calls give the same rows, and races over two connections end the same.
 */
import { createHash } from 'node:crypto';
import { describe, expect } from 'vitest';
import { RecordConflict } from '../../../../src/main/core/store/record-conflict.ts';
import { recordEngines, useRecordEngine, type RecordEngine } from '../../../support/record-engines.ts';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

describe.each(recordEngines('config_contract'))('record contracts: $name', (engine: RecordEngine) => {
  const { fresh, it } = useRecordEngine(engine);

  describe('AgentRecords', () => {
    it('a name and a token each registered once; only a live agent is found by its token', async () => {
      const db = await fresh();
      const [one, two] = await Promise.all([db.connect(), db.connect()]);
      await one.agents.insert('zed', sha('t-zed'), '2026-01-01T00:00:01.000Z');
      await one.agents.insert('Ada', sha('t-ada'), '2026-01-01T00:00:02.000Z');
      await one.agents.insert('ada', sha('t-ada2'), '2026-01-01T00:00:03.000Z');
      expect(await two.agents.get('ada')).toEqual({
        name: 'ada',
        token_hash: sha('t-ada2'),
        created_at: '2026-01-01T00:00:03.000Z',
        revoked_at: null,
      });
      expect(await two.agents.get('nobody')).toBeUndefined();
      expect((await two.agents.list()).map((a) => a.name)).toEqual(['Ada', 'ada', 'zed']);
      expect(await two.agents.liveNameOf(sha('t-zed'))).toBe('zed');
      expect(await two.agents.liveNameOf(sha('unknown'))).toBeNull();
      await expect(two.agents.insert('zed', sha('other'), 'now')).rejects.toBeInstanceOf(RecordConflict);
      await expect(two.agents.insert('new', sha('t-zed'), 'now')).rejects.toBeInstanceOf(RecordConflict);

      const names = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).agents.insert('racer', sha(`t-racer-${i}`), 'now')),
      );
      expect(names.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      for (const o of names) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(RecordConflict);
    });

    it('a revocation is recorded once and ends the token', async () => {
      const db = await fresh();
      const [one, two] = await Promise.all([db.connect(), db.connect()]);
      await one.agents.insert('bot', sha('t-bot'), '2026-01-01T00:00:00.000Z');
      const revoked = await Promise.all([
        one.agents.revoke('bot', '2026-01-01T00:01:00.000Z'),
        two.agents.revoke('bot', '2026-01-01T00:02:00.000Z'),
      ]);
      expect(revoked.filter(Boolean)).toHaveLength(1);
      expect((await one.agents.get('bot'))?.revoked_at).toBe(revoked[0] ? '2026-01-01T00:01:00.000Z' : '2026-01-01T00:02:00.000Z');
      expect(await one.agents.liveNameOf(sha('t-bot'))).toBeNull();
      expect(await one.agents.revoke('bot', 'later')).toBe(false);
      expect(await one.agents.revoke('nobody', 'later')).toBe(false);
      // Revoked names are kept, so never reused.
      await expect(two.agents.insert('bot', sha('t-bot-2'), 'now')).rejects.toBeInstanceOf(RecordConflict);
    });
  });

  describe('ToolPinRecords', () => {
    it('pins once; a changed definition waits until exactly it is accepted', async () => {
      const db = await fresh();
      const [one, two] = await Promise.all([db.connect(), db.connect()]);
      const action = 'mcp:files/read';
      await one.toolPins.insert(action, 'h1', '{"v":1}', '2026-01-01T00:00:00.000Z');
      await expect(two.toolPins.insert(action, 'h9', '{"v":9}', 'now')).rejects.toBeInstanceOf(RecordConflict);
      const pinned = {
        action,
        definition_hash: 'h1',
        definition: '{"v":1}',
        pending_hash: null,
        pending_definition: null,
        pinned_at: '2026-01-01T00:00:00.000Z',
      };
      expect(await two.toolPins.get(action)).toEqual(pinned);
      expect(await two.toolPins.get('mcp:none/x')).toBeUndefined();
      expect(await two.toolPins.markPending('mcp:none/x', 'h2', '{}')).toBe(false);
      expect(await two.toolPins.markPending(action, 'h2', '{"v":2}')).toBe(true);
      expect(await one.toolPins.get(action)).toEqual({ ...pinned, pending_hash: 'h2', pending_definition: '{"v":2}' });
      expect(await one.toolPins.accept(action, 'h3', 'later')).toBe(false);
      const accepted = await Promise.all([
        one.toolPins.accept(action, 'h2', '2026-01-01T00:01:00.000Z'),
        two.toolPins.accept(action, 'h2', '2026-01-01T00:01:00.000Z'),
      ]);
      expect(accepted.filter(Boolean)).toHaveLength(1);
      expect(await two.toolPins.get(action)).toEqual({
        ...pinned,
        definition_hash: 'h2',
        definition: '{"v":2}',
        pinned_at: '2026-01-01T00:01:00.000Z',
      });
    });
  });

  describe('SettingRecords', () => {
    it('a setting reads null until written, then the last value written', async () => {
      const db = await fresh();
      const [one, two] = await Promise.all([db.connect(), db.connect()]);
      expect(await one.settings.get('allowed_actions')).toBeNull();
      await one.settings.put('allowed_actions', '["greet"]');
      expect(await two.settings.get('allowed_actions')).toBe('["greet"]');
      await two.settings.put('allowed_actions', '[]');
      expect(await one.settings.get('allowed_actions')).toBe('[]');
      await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).settings.put('raced', `v${i}`)));
      expect(await one.settings.get('raced')).toMatch(/^v\d$/);
      expect(await one.settings.get('allowed_actions')).toBe('[]');
    });
  });

  describe('CheckpointRecords', () => {
    it('one checkpoint per size, never replaced; the latest is the largest', async () => {
      const db = await fresh();
      const [one, two] = await Promise.all([db.connect(), db.connect()]);
      expect(await one.checkpoints.latest()).toBeNull();
      const at = (size: number, note = `note ${size}`) => ({
        size,
        root: new Uint8Array(32).fill(size),
        note,
        createdAt: `2026-01-01T00:00:0${size}.000Z`,
      });
      await one.checkpoints.insert(at(5));
      await two.checkpoints.insert(at(2));
      const read = async (size: number) => {
        const c = await two.checkpoints.at(size);
        return c && { ...c, root: Buffer.from(c.root).toString('hex') };
      };
      expect(await read(5)).toEqual({ ...at(5), root: Buffer.from(at(5).root).toString('hex') });
      expect(await two.checkpoints.at(3)).toBeNull();
      expect((await one.checkpoints.latest())?.size).toBe(5);
      await expect(two.checkpoints.insert(at(5, 'another note'))).rejects.toBeInstanceOf(RecordConflict);
      expect((await read(5))?.note).toBe('note 5');
      const raced = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? one : two).checkpoints.insert(at(7, `racer ${i}`))),
      );
      expect(raced.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect((await one.checkpoints.latest())?.size).toBe(7);
    });
  });
});
