import { afterAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, tempDir } from '../support/harness.ts';
import { NODE_BIN } from '../support/server-process.ts';

/**
 * The headless server's stderr lines are written once per event-loop turn, not once per line;
 * these run the real logger in a process of its own and end it in the very turn that logged,
 * the way a crash or `process.exit` would, so nothing may wait for the turn's end.
 */
describe('log lines on stderr', () => {
  const dataDir = tempDir('openexec-log-stderr-');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  function run(ending: string): { stderr: string; status: number | null } {
    const script = `
      const { loadConfig } = await import(${JSON.stringify(join(REPO_ROOT, 'src/main/app/config.ts'))});
      const { createLogger } = await import(${JSON.stringify(join(REPO_ROOT, 'src/main/app/logging.ts'))});
      const log = await createLogger(loadConfig({ OPENEXEC_DATA_DIR: ${JSON.stringify(dataDir)} }), { stderr: true });
      for (let i = 0; i < 3; i++) log.logger.info({ route: '/execute', status: 200, seq: i }, 'request');
      ${ending}
    `;
    const r = spawnSync(NODE_BIN, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT, encoding: 'utf8' });
    return { stderr: r.stderr, status: r.status };
  }

  const requestSeqs = (stderr: string) =>
    stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l['msg'] === 'request')
      .map((l) => l['seq']);

  test('a process that exits in the turn that logged still writes every line, in order', () => {
    const r = run('process.exit(0);');
    expect(r.status).toBe(0);
    expect(requestSeqs(r.stderr)).toEqual([0, 1, 2]);
  });

  test('so does one ended by an uncaught exception, and the lines come before its report', () => {
    const r = run("throw new Error('crash-after-logging');");
    expect(r.status).not.toBe(0);
    expect(requestSeqs(r.stderr)).toEqual([0, 1, 2]);
    expect(r.stderr.indexOf('"seq":2')).toBeLessThan(r.stderr.indexOf('crash-after-logging'));
  });

  test('lines logged across turns all arrive once the process ends normally', () => {
    const r = run('setTimeout(() => log.logger.info({ seq: 3 }, "request"), 10);');
    expect(r.status).toBe(0);
    expect(requestSeqs(r.stderr)).toEqual([0, 1, 2, 3]);
  });
});
