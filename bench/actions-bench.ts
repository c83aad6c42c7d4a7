import { Agent } from 'node:http';
import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../test/support/harness.ts';
import { spawnServer, waitForExit } from '../test/support/server-process.ts';
import { percentile, postRaw } from './execute-bench.ts';

export interface ActionsFigures {
  runs: number;
  /** Spawning /bin/true directly from Node and waiting for its exit: the machine's floor. */
  directP50ms: number;
  /** POST /execute of a declared `run` of /bin/true, demo mode, one at a time, answer after its receipt. */
  boundaryP50ms: number;
  boundaryP99ms: number;
  /** The built-in `echo` through the same route: what the HTTP round trip and ledger cost alone. */
  builtinP50ms: number;
  addedP50ms: number;
  errors: number;
}

function spawnTrue(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/true', [], { shell: false, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: {} });
    child.once('error', reject);
    child.once('exit', () => resolve());
  });
}

async function timed(n: number, once: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await once(i);
    out.push(performance.now() - t0);
  }
  return out.sort((a, b) => a - b);
}

/**
 * A `run` of /bin/true through the boundary (demo mode, a server in its own process) against
 * spawning it directly, sequentially, p50 of each. The two are interleaved in rounds so that a
 * busy neighbour on the machine weighs on both alike.
 */
export async function benchActions(runs: number): Promise<ActionsFigures> {
  const dataDir = tempDir('openexec-bench-');
  const manifest = join(dataDir, 'bench-actions.yaml');
  writeFileSync(
    manifest,
    'actions:\n  true:\n    kind: run\n    description: bench\n    risk: low\n    program: /bin/true\n    payload_schema: {type: object}\n',
  );
  const server = await spawnServer({ OPENEXEC_DATA_DIR: dataDir, OPENEXEC_MODE: 'demo', OPENEXEC_ACTIONS: manifest });
  const url = new URL(server.url);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let errors = 0;
  let nonce = 0;
  const execute = async (action: string) => {
    const status = await postRaw(agent, url, JSON.stringify({ action, payload: {}, nonce: `bench-${nonce++}` }));
    if (status !== 200) errors++;
  };
  try {
    await timed(50, () => execute('true'));
    await timed(50, () => spawnTrue());
    const direct: number[] = [];
    const boundary: number[] = [];
    const builtin: number[] = [];
    const rounds = 10;
    for (let r = 0; r < rounds; r++) {
      direct.push(...(await timed(runs / rounds, () => spawnTrue())));
      boundary.push(...(await timed(runs / rounds, () => execute('true'))));
      builtin.push(...(await timed(runs / rounds, () => execute('echo'))));
    }
    for (const l of [direct, boundary, builtin]) l.sort((a, b) => a - b);
    const directP50ms = percentile(direct, 50);
    const boundaryP50ms = percentile(boundary, 50);
    return {
      runs,
      directP50ms,
      boundaryP50ms,
      boundaryP99ms: percentile(boundary, 99),
      builtinP50ms: percentile(builtin, 50),
      addedP50ms: Math.round((boundaryP50ms - directP50ms) * 1000) / 1000,
      errors,
    };
  } finally {
    agent.destroy();
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
