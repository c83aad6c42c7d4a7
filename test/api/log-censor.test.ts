import { afterAll, describe, expect, test } from 'vitest';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/main/app/config.ts';
import { createLogger, LOG_DIR, SECRET_KEYS } from '../../src/main/app/logging.ts';
import { tempDir } from '../support/harness.ts';

/**
 * The logger's second line of defence, on its own: whatever a caller passes, the secret keys are
 * censored at the top of a line, one level down, and in a child logger's bindings.
 */
describe('log lines censor secret keys', () => {
  const dataDir = tempDir('openexec-log-censor-');
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  test('top level, one level down, in bindings and on an error; the request line itself is untouched', async () => {
    const log = await createLogger(loadConfig({ OPENEXEC_DATA_DIR: dataDir }), { stderr: false });
    const secrets: string[] = [];
    const secret = () => {
      const s = `SECRET-${secrets.length}-${Math.random().toString(36).slice(2)}`;
      secrets.push(s);
      return s;
    };
    for (const key of SECRET_KEYS) {
      log.logger.info({ [key]: secret() }, 'top');
      log.logger.info({ req: { [key]: secret(), kept: 'visible' } }, 'nested');
      log.logger.child({ reqId: 'r1', [key]: secret() }).info('bound');
    }
    log.logger.error(Object.assign(new Error('boom'), { key: secret() }), 'error');
    log.logger.info({ nested: Object.assign(new Error('inner'), { password: secret() }) }, 'nested error');
    log.logger.child({ reqId: 'req-7' }).info({ method: 'POST', route: '/execute', status: 200, ms: 1.5, seq: 42 }, 'request');
    await log.close();

    const dir = join(dataDir, LOG_DIR);
    const text = readdirSync(dir)
      .filter((f) => f.endsWith('.log') && f !== 'current.log')
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('');
    for (const s of secrets) expect(text).not.toContain(s);
    const lines = text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3 * SECRET_KEYS.length + 3);
    expect(lines.filter((l) => l['msg'] === 'nested').every((l) => (l['req'] as Record<string, unknown>)['kept'] === 'visible')).toBe(true);
    expect(lines.find((l) => l['msg'] === 'nested error')!['nested']).toMatchObject({ message: 'inner', password: '[redacted]' });
    expect(lines.find((l) => l['msg'] === 'error')!['err']).toMatchObject({ message: 'boom', key: '[redacted]' });
    expect(lines.at(-1)).toMatchObject({
      reqId: 'req-7',
      method: 'POST',
      route: '/execute',
      status: 200,
      ms: 1.5,
      seq: 42,
      msg: 'request',
    });
  });
});
