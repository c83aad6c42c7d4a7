import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { post, tempDir } from '../support/harness.ts';
import { cli } from '../support/cli.ts';
import { NODE_BIN, spawnServer, waitForExit, type ServerProcess } from '../support/server-process.ts';
import { consoleTokenProof } from '../../src/main/api/console-challenge.ts';

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Behaviour = 'not-found' | 'made-up-proof' | 'relay-to-real-server';

/** Someone else's HTTP server on 127.0.0.1 that writes down everything it is sent. */
async function foreignServer(behaviour: Behaviour, realUrl: string): Promise<{ url: string; seen: Seen[]; server: Server }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const answer = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
      if (behaviour === 'not-found' || req.url !== '/console/challenge') return answer(404, { detail: 'Not Found' });
      if (behaviour === 'made-up-proof') return answer(200, { proof: randomBytes(32).toString('base64url') });
      // Asks the real OpenExec (which does know the token) to answer the CLI's nonce for it.
      void post(realUrl, '/console/challenge', JSON.parse(body)).then((r) => answer(r.status, r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, seen, server };
}

/** A data directory as a crash leaves it: server.json, lock and token, with what we choose in them. */
function staleDataDir(record: { address: string; pid?: number }, lockPid: number | null, token: string): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'server.json'), JSON.stringify(record), { mode: 0o600 });
  if (lockPid !== null) writeFileSync(join(dir, 'openexec.lock'), `${lockPid}\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'console-token'), `${token}\n`, { mode: 0o600 });
  return dir;
}

function deadPid(): Promise<number> {
  const child = spawn(NODE_BIN, ['-e', '']);
  const pid = child.pid!;
  return waitForExit(child).then(() => pid);
}

describe('the CLI sends the console token only to the live server that proves it knows it', () => {
  const dataDir = tempDir();
  let real: ServerProcess;
  let token: string;
  let realPid: number;
  const cleanup: (() => void)[] = [];
  beforeAll(async () => {
    real = await spawnServer({ OPENEXEC_DATA_DIR: dataDir });
    token = readFileSync(join(dataDir, 'console-token'), 'utf8').trim();
    realPid = (JSON.parse(readFileSync(join(dataDir, 'server.json'), 'utf8')) as { pid: number }).pid;
  }, 30_000);
  afterAll(async () => {
    for (const c of cleanup) c();
    real.child.kill('SIGTERM');
    await waitForExit(real.child);
    rmSync(dataDir, { recursive: true, force: true });
  });

  function neverSawToken(seen: Seen[]): void {
    for (const s of seen) {
      expect(s.headers.authorization).toBeUndefined();
      expect(JSON.stringify(s)).not.toContain(token);
    }
  }

  test('the normal path works, and the server answers the challenge for its own address and pid', async () => {
    const status = await cli(dataDir, 'status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^OpenExec /);
    const nonce = randomBytes(32).toString('base64url');
    const r = await post(real.url, '/console/challenge', { nonce });
    expect(r.status).toBe(200);
    expect(r.body.proof).toBe(consoleTokenProof(token, { address: real.url, pid: realPid }, nonce));
    expect(r.text).not.toContain(token);
    for (const bad of [{}, { nonce: 'short' }, { nonce: nonce, extra: 1 }, { nonce: `${nonce}!` }]) {
      expect((await post(real.url, '/console/challenge', bad)).status, JSON.stringify(bad)).toBe(400);
    }
  });

  for (const behaviour of ['not-found', 'made-up-proof', 'relay-to-real-server'] as const) {
    test(`a stranger on the recorded port (${behaviour}) is refused and never sees the token`, async () => {
      const foreign = await foreignServer(behaviour, real.url);
      cleanup.push(() => foreign.server.close());
      // As after a crash whose pid was reused: the recorded pid is alive and in the lock file.
      const dir = staleDataDir({ address: foreign.url, pid: realPid }, realPid, token);
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const r = await cli(dir, 'pending');
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `openexec: the server at ${foreign.url} (from ${join(dir, 'server.json')}) could not prove it knows the console token; refusing to send it\n`,
      );
      expect(foreign.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /console/challenge']);
      neverSawToken(foreign.seen);
    });
  }

  test('a dead pid in server.json: one clear line, nothing sent', async () => {
    const foreign = await foreignServer('made-up-proof', real.url);
    cleanup.push(() => foreign.server.close());
    const pid = await deadPid();
    const dir = staleDataDir({ address: foreign.url, pid }, pid, token);
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const r = await cli(dir, 'pending');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `openexec: ${join(dir, 'server.json')} names pid ${pid}, which is not running: the OpenExec at ${foreign.url} did not stop cleanly; start it again\n`,
    );
    expect(foreign.seen).toEqual([]);
  });

  test('a live pid that does not hold the lock, or no pid at all: refused before anything is sent', async () => {
    const foreign = await foreignServer('made-up-proof', real.url);
    cleanup.push(() => foreign.server.close());
    const lockFile = (dir: string) => join(dir, 'openexec.lock');
    for (const [record, lockPid, expected] of [
      [{ address: foreign.url, pid: process.pid }, realPid, (dir: string) => `which does not hold ${lockFile(dir)} (pid ${realPid} does)`],
      [{ address: foreign.url, pid: process.pid }, null, (dir: string) => `which does not hold ${lockFile(dir)} (nobody does)`],
      [{ address: foreign.url }, realPid, () => "does not name the server's process"],
    ] as const) {
      const dir = staleDataDir(record, lockPid, token);
      cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
      const r = await cli(dir, 'status');
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(join(dir, 'server.json'));
      expect(r.stderr).toContain(expected(dir));
    }
    expect(foreign.seen).toEqual([]);
  });
});
