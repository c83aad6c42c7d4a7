import { afterEach, describe, expect, test } from 'vitest';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { z } from 'zod';
import { loadConfig } from '../../src/main/app/config.ts';
import { executionId } from '../../src/main/core/engine/execution-id.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { searchIndexOf } from '../../src/main/core/ledger/search-index.ts';
import { rawDb } from '../support/raw-db.ts';
import { tempDir } from '../support/harness.ts';
import { btreeOfPages, framesByBtree, keepEveryWalFrame, readWalFrames } from '../support/wal-frames.ts';

const isUuid = (id: string) => z.uuid().safeParse(id).success;

describe('execution ids are time-ordered UUIDs (version 7)', () => {
  test('a valid UUID of version 7, its time first, the rest random', () => {
    const at = Date.UTC(2026, 11, 1, 12, 0, 0, 123);
    const id = executionId(at);
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect('89ab').toContain(id[19]);
    expect(Number.parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at);
    expect(executionId(at)).not.toBe(id);
    // Out-of-range clocks still give a valid id.
    expect(isUuid(executionId(-5))).toBe(true);
    expect(isUuid(executionId(2 ** 50))).toBe(true);
  });

  test('an id made a millisecond later sorts after every id made before', () => {
    const earlier = Array.from({ length: 100 }, () => executionId(1_700_000_000_000));
    const later = executionId(1_700_000_000_001);
    expect(earlier.every((id) => id < later)).toBe(true);
  });
});

describe('a group commit writes the indexes keyed by execution id at their right edge', () => {
  let dir: string | null = null;
  let core: OpenExecCore | null = null;
  afterEach(() => {
    core?.close();
    core = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('16 executions in one commit dirty a few pages of each index on exec id, not one each', async () => {
    dir = tempDir();
    core = await OpenExecCore.open(loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_MODE: 'demo' }));
    const run = (n: number, from: number) =>
      Promise.all(
        Array.from({ length: n }, (_, i) =>
          core!.engine.execute({ action: 'add', payload: { a: from + i, b: 1 } as JsonObject, nonce: randomUUID(), artifact: null }),
        ),
      );
    // Enough executions for each index to span dozens of leaf pages.
    for (let i = 0; i < 3000; i += 100) await run(100, i);
    // The full-text index caught up now, so that its catch-up does not commit in between.
    searchIndexOf(rawDb(core)).catchUp();
    const db = keepEveryWalFrame(core);
    const outcomes = await run(16, 5000);
    expect(outcomes.map((o) => o.kind)).toEqual(Array<string>(16).fill('executed'));
    const ids = outcomes.map((o) => (o.kind === 'executed' ? o.answer.id : ''));
    expect(ids.every(isUuid)).toBe(true);
    const frames = readWalFrames(`${db.name}-wal`);
    expect(frames.commits).toBe(1);
    const pages = new Map(framesByBtree(frames, btreeOfPages(db)));
    // The nonces are random: their index takes a page per execution, as the ids' did before.
    expect(pages.get('sqlite_autoindex_executions_2')).toBeGreaterThanOrEqual(12);
    // With random ids each took 12 pages here; a split at the right edge can take a few.
    expect(pages.get('sqlite_autoindex_executions_1')).toBeLessThanOrEqual(6);
    expect(pages.get('receipts_exec')).toBeLessThanOrEqual(6);
  });
});
