/**
 * The `pghttp` part of `npm run bench` (issue 13's "`/execute` on PostgreSQL at concurrency 1, 16
 * and 64 against the same machine's SQLite figures"): POST /execute to headless servers in their
 * own processes, as an agent would, in clawshield mode, the built-in `add`, each request with a
 * fresh valid artifact and a unique nonce, every answer sent only after its receipt commits.
 * Servers: SQLite NORMAL, SQLite FULL, PostgreSQL (a throwaway cluster with fsync on), and at the
 * highest level two servers (two data directories, two receipt keys) on one PostgreSQL database,
 * request i to server i mod 2. Within each level the setups take turns, the first rotating from
 * level to level, so the machine's noise weighs on each alike. Without PostgreSQL it prints why
 * and reports `skipped`.
 */
import { Agent } from 'node:http';
import { rmSync } from 'node:fs';
import { executeWire, TestApprover } from '../test/support/clawshield.ts';
import { tempDir } from '../test/support/harness.ts';
import { migratedDatabase, postgresAvailability, startCluster } from '../test/support/postgres.ts';
import { spawnServer, waitForExit, type ServerProcess } from '../test/support/server-process.ts';
import { postRaw, timedCalls } from './execute-bench.ts';
import { compareEngines, loadAverage, type Setup } from './engine-comparison.ts';

const TENANT = 'tenant-001';

/** Minted just before the run, so every artifact is fresh; signing is not timed. */
function bodies(tag: string, count: number, approver: TestApprover): string[] {
  return Array.from({ length: count }, (_, i) => {
    const payload = `{"a":${i},"b":${count}}`;
    return executeWire('add', payload, `${tag}-${i}`, approver.mint('add', payload, { tenant: TENANT }));
  });
}

export async function benchPostgresHttpExecute(perLevel: number, concurrencies = [1, 16, 64]) {
  const available = postgresAvailability();
  if (!available.ok) {
    process.stderr.write(`pghttp bench skipped: ${available.reason}\n`);
    return { skipped: available.reason };
  }
  const loadBefore = loadAverage();
  const approver = new TestApprover();
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  const cluster = await startCluster(available, { fsync: true });
  const serve = async (env: Record<string, string>): Promise<ServerProcess> => {
    const dataDir = tempDir('openexec-pghttp-bench-');
    dirs.push(dataDir);
    const server = await spawnServer({
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_MODE: 'clawshield',
      CLAWSHIELD_PUBLIC_KEY: approver.publicKeyPem,
      CLAWSHIELD_TENANT_ID: TENANT,
      OPENEXEC_ALLOWED_ACTIONS: 'add',
      ...env,
    });
    servers.push(server);
    return server;
  };
  try {
    const one = await migratedDatabase(cluster, 'bench_http_one');
    const two = await migratedDatabase(cluster, 'bench_http_two');
    const setups = new Map<Setup, ServerProcess[]>([
      ['SQLite NORMAL', [await serve({ OPENEXEC_SYNCHRONOUS: 'NORMAL' })]],
      ['SQLite FULL', [await serve({ OPENEXEC_SYNCHRONOUS: 'FULL' })]],
      ['PostgreSQL', [await serve({ OPENEXEC_DB_URL: one.appUrl })]],
      ['PostgreSQL ×2', [await serve({ OPENEXEC_DB_URL: two.appUrl }), await serve({ OPENEXEC_DB_URL: two.appUrl })]],
    ]);
    const { figures, ratios } = await compareEngines(
      async (setup, tag, count, concurrency) => {
        const targets = setups
          .get(setup)!
          .map((s) => ({ url: new URL(s.url), agent: new Agent({ keepAlive: true, maxSockets: concurrency }) }));
        const batch = bodies(tag, count, approver);
        try {
          return await timedCalls(count, concurrency, async (i) => {
            const target = targets[i % targets.length]!;
            return (await postRaw(target.agent, target.url, batch[i]!)) === 200;
          });
        } finally {
          for (const t of targets) t.agent.destroy();
        }
      },
      perLevel,
      concurrencies,
    );
    return {
      what: 'POST /execute to headless servers, clawshield mode, built-in add; PostgreSQL: throwaway cluster on 127.0.0.1, fsync on',
      loadAverage: { before: loadBefore, after: loadAverage() },
      figures,
      ratios,
    };
  } finally {
    for (const s of servers) {
      s.child.kill('SIGTERM');
      await waitForExit(s.child);
    }
    await cluster.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
