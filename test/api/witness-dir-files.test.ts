import { afterEach, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/harness.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';
import { CONSOLE_TOKEN_FILE } from '../../src/main/app/console-token.ts';

let server: ServerProcess | null = null;
const dirs: string[] = [];
afterEach(async () => {
  if (server) {
    server.child.kill('SIGKILL');
    await waitForExit(server.child);
    server = null;
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * The witness directory is outside the data directory (another disk, a synced folder), and its
 * notes are read at start-up and on every Status. A FIFO there blocked that read, and with it
 * the whole server; a link to /dev/zero read until memory ran out. Neither is a note: skipped.
 */
test('a FIFO or a device among the witness notes neither stops start-up nor freezes the server', async () => {
  const dataDir = tempDir();
  const witness = tempDir('openexec-witness-');
  dirs.push(dataDir, witness);
  execFileSync('mkfifo', [join(witness, 'checkpoint-999999.txt')]);
  symlinkSync('/dev/zero', join(witness, 'checkpoint-99999.txt'));
  server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_WITNESS_DIR: witness });
  const token = readFileSync(join(dataDir, CONSOLE_TOKEN_FILE), 'utf8').trim();
  const health = await fetch(`${server.url}/console/health`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5000),
  });
  expect(health.status).toBe(200);
  expect(((await health.json()) as { checkpoints: unknown }).checkpoints).toMatchObject({ witnessDir: witness, witnessed: null });
  expect((await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5000) })).status).toBe(200);
}, 30_000);
