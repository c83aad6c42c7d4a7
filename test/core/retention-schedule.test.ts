import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { ConfigError, loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { RetentionSchedule } from '../../src/main/core/ledger/retention-schedule.ts';
import { verifyChain } from '../../src/main/core/ledger/verify-ledger.ts';
import { sideTableProblems } from '../../src/main/core/ledger/verify-side-tables.ts';
import { parseRetention, type PurgeDto } from '../../src/shared/retention.ts';
import { cli } from '../support/cli.ts';
import { tempDir } from '../support/harness.ts';
import { rawDb } from '../support/raw-db.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('OPENEXEC_RETENTION and --older-than', () => {
  test('whole hours, days or weeks from 1h to 3653d', () => {
    expect(parseRetention('12h')).toEqual({ ok: true, ms: 12 * HOUR });
    expect(parseRetention('90d')).toEqual({ ok: true, ms: 90 * DAY });
    expect(parseRetention(' 8w ')).toEqual({ ok: true, ms: 56 * DAY });
    expect(parseRetention('3653d')).toEqual({ ok: true, ms: 3653 * DAY });
    for (const bad of ['', '0d', '90', 'd', '1.5d', '-3d', '90 days', '30m', '3654d', '1000000w', '07d']) {
      expect(parseRetention(bad).ok, bad).toBe(false);
    }
  });

  test('a bad value stops start-up with one line naming the variable; unset keeps everything', () => {
    const dir = tempDir('openexec-retention-config-');
    try {
      expect(loadConfig({ OPENEXEC_DATA_DIR: dir }).retentionMs).toBeNull();
      expect(loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_RETENTION: '30d' }).retentionMs).toBe(30 * DAY);
      for (const bad of ['forever', '0h', '30m']) {
        let error: unknown;
        try {
          loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_RETENTION: bad });
        } catch (err) {
          error = err;
        }
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as Error).message).toMatch(/^OPENEXEC_RETENTION: must be .*'/);
        expect((error as Error).message).not.toContain('\n');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('openexec purge refuses a bad or missing period in one line (exit 2), before any server is asked', async () => {
    const dir = tempDir('openexec-retention-cli-');
    try {
      const bad = await cli(dir, 'purge', '--older-than', 'forever');
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim().split('\n')).toHaveLength(1);
      expect(bad.stderr).toContain("--older-than must be a whole number of hours, days or weeks such as 12h, 90d or 8w, got 'forever'");
      const missing = await cli(dir, 'purge');
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('purge needs --older-than DURATION');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the daily retention job (the clock moved, never slept)', () => {
  let dir: string;
  let core: OpenExecCore;
  let now: number;
  let reported: PurgeDto[];
  let schedule: RetentionSchedule;
  const execute = (nonce: string) => core.engine.execute({ action: 'echo', payload: { nonce }, nonce, artifact: null });
  const kept = () => rawDb(core).prepare('SELECT count(*) FROM receipt_bodies WHERE purged_at IS NULL').pluck().get() as number;

  beforeEach(async () => {
    dir = tempDir('openexec-retention-job-');
    now = Date.parse('2026-06-01T00:00:00.000Z');
    core = await OpenExecCore.open({ ...loadConfig({ OPENEXEC_DATA_DIR: dir }), clock: { now: () => now } });
    reported = [];
    schedule = new RetentionSchedule(
      (cutoff, trigger) => core.purgeOlderThan(cutoff, trigger),
      core.clock,
      30 * DAY,
      (o) => {
        if ('purge' in o) reported.push(o.purge);
      },
    );
  });
  afterEach(() => {
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('runs at once, then once a day, purging only what is older than the period', async () => {
    await execute('day-0');
    // The first run finds nothing old enough: no receipt is written.
    expect(await schedule.tick()).toMatchObject({ receiptSeq: null, bodies: 0 });
    const size = core.ledger.size();

    now += 31 * DAY;
    await execute('day-31');
    const first = (await schedule.tick())!;
    expect(first).toMatchObject({ trigger: 'retention', receipts: 1, executions: 1, cutoff: new Date(now - 30 * DAY).toISOString() });
    expect(first.receiptSeq).toBe(size + 2);
    const body = JSON.parse(rawDb(core).prepare('SELECT body FROM receipts WHERE seq = ?').pluck().get(first.receiptSeq) as string);
    expect(body).toMatchObject({ event: 'config', details: { kind: 'purge', trigger: 'retention', from_seq: 1, to_seq: 1 } });
    expect(kept()).toBeGreaterThan(0);

    // Within the day: nothing runs, however often the timer looks.
    now += 23 * HOUR;
    expect(await schedule.tick()).toBeNull();
    now += HOUR;
    now += 30 * DAY;
    const second = (await schedule.tick())!;
    expect(second.receiptSeq).toBe(first.receiptSeq! + 1);
    expect(second.fromSeq).toBe(2);
    expect(kept()).toBe(0);
    expect(reported.map((r) => r.receiptSeq)).toEqual([null, first.receiptSeq, second.receiptSeq]);
    expect(verifyChain(rawDb(core), core.receiptVerifier).valid).toBe(true);
    expect(sideTableProblems(rawDb(core))).toEqual([]);
  });
});
