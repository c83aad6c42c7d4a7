/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary directory as a non-root user,
 * listening on 127.0.0.1 on a free port only (no unix socket), password (SCRAM) authentication,
 * stopped and removed at the end. Without PostgreSQL the tests skip with a printed reason,
 * except under CI=true, where a missing server is a failure.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { tempDir } from './harness.ts';
import { migratePostgres } from '../../src/main/core/store/postgres/pg-migrations.ts';

const TOOLS = ['initdb', 'pg_ctl', 'postgres'];

export type PostgresAvailability = { ok: true; bindir: string; runAs: RunAs | null } | { ok: false; reason: string };

/** The user the server runs as when we are root (PostgreSQL refuses to run as root). */
interface RunAs {
  user: string;
  uid: number;
  gid: number;
}

const hasTools = (dir: string) => TOOLS.every((t) => existsSync(join(dir, t)));

function bindirCandidates(): string[] {
  const found: string[] = [];
  try {
    found.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
  } catch {
    // No pg_config on PATH: Debian's layout below.
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    found.push(...versions.map((v) => join(root, v, 'bin')));
  }
  return found;
}

function runAsUser(): RunAs | { missing: string } | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    execFileSync('runuser', ['--help'], { stdio: 'ignore' });
    return { user: 'postgres', uid, gid };
  } catch {
    return { missing: "running as root, and there is no 'postgres' user (or no runuser) to run the server as" };
  }
}

let availability: PostgresAvailability | undefined;

/** Whether a cluster can be started here; under CI=true a missing PostgreSQL throws. */
export function postgresAvailability(): PostgresAvailability {
  if (availability) return availability;
  const bindir = bindirCandidates().find(hasTools);
  const runAs = runAsUser();
  if (bindir === undefined) {
    availability = {
      ok: false,
      reason: 'no PostgreSQL server binaries (pg_config --bindir, /usr/lib/postgresql/*/bin); apt-get install postgresql',
    };
  } else if (runAs !== null && 'missing' in runAs) {
    availability = { ok: false, reason: runAs.missing };
  } else {
    availability = { ok: true, bindir, runAs };
  }
  if (!availability.ok) {
    if (process.env['CI'] === 'true') throw new Error(`PostgreSQL is required under CI=true: ${availability.reason}`);
    console.warn(`skipping PostgreSQL tests: ${availability.reason}`);
  }
  return availability;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function command(bindir: string, runAs: RunAs | null, tool: string, args: string[]): [string, string[]] {
  const file = join(bindir, tool);
  return runAs ? ['runuser', ['-u', runAs.user, '--', file, ...args]] : [file, args];
}

function run(bindir: string, runAs: RunAs | null, tool: string, args: string[]): Promise<string> {
  const [cmd, argv] = command(bindir, runAs, tool, args);
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${tool} ${args[0] ?? ''} exited with ${code}:\n${out}`))));
  });
}

export interface Credentials {
  user: string;
  password: string;
}

/** One database of the cluster: owned by `owner` (who migrates), used by `app` at run time. */
export interface TestDatabase {
  name: string;
  ownerUrl: string;
  appUrl: string;
  superUrl: string;
}

export interface PgCluster {
  port: number;
  superuser: Credentials;
  owner: Credentials;
  app: Credentials;
  url(who: Credentials, database: string): string;
  /** A new, empty database owned by the owner role. */
  createDatabase(name: string): Promise<TestDatabase>;
  /** Runs SQL as the superuser on `database`. */
  superQuery(database: string, sql: string, params?: unknown[]): Promise<pg.QueryResult>;
  log(): string;
  stop(): Promise<void>;
}

const secret = () => randomBytes(18).toString('hex');

export interface ClusterOptions {
  /** Off for the tests (nothing there outlives the cluster); on for `npm run bench`, whose commits must be durable. */
  fsync?: boolean;
}

/** initdb, start, and the owner and app roles; call stop() when done (afterAll). */
export async function startCluster(
  available: Extract<PostgresAvailability, { ok: true }>,
  clusterOptions: ClusterOptions = {},
): Promise<PgCluster> {
  const { bindir, runAs } = available;
  const dir = tempDir('openexec-pg-');
  if (runAs) chownSync(dir, runAs.uid, runAs.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const superuser: Credentials = { user: 'openexec_super', password: secret() };
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${superuser.password}\n`, { mode: 0o600 });
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  await run(bindir, runAs, 'initdb', [
    '-D',
    data,
    '-U',
    superuser.user,
    `--pwfile=${pwfile}`,
    '--auth=scram-sha-256',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
  ]);
  rmSync(pwfile);

  let port = 0;
  let started = false;
  let lastError: unknown;
  // A free port can be taken between our probe and the server's bind: try again.
  for (let attempt = 0; attempt < 3 && !started; attempt++) {
    port = await freePort();
    const options = [
      "-c listen_addresses='127.0.0.1'",
      `-c port=${port}`,
      "-c unix_socket_directories=''",
      `-c fsync=${clusterOptions.fsync === true ? 'on' : 'off'}`,
      '-c max_connections=200',
    ].join(' ');
    try {
      await run(bindir, runAs, 'pg_ctl', ['start', '-D', data, '-l', logFile, '-w', '-t', '60', '-o', options]);
      started = true;
    } catch (err) {
      lastError = err;
    }
  }
  if (!started) {
    rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }

  const url = (who: Credentials, database: string) =>
    `postgresql://${encodeURIComponent(who.user)}:${encodeURIComponent(who.password)}@127.0.0.1:${port}/${database}`;
  const superQuery = async (database: string, sql: string, params: unknown[] = []) => {
    const client = new pg.Client({ connectionString: url(superuser, database) });
    await client.connect();
    try {
      return await client.query(sql, params);
    } finally {
      await client.end();
    }
  };
  const owner: Credentials = { user: 'openexec_owner', password: secret() };
  const app: Credentials = { user: 'openexec_app', password: secret() };
  for (const role of [owner, app]) {
    await superQuery('postgres', `CREATE ROLE ${role.user} LOGIN PASSWORD '${role.password}'`);
  }

  let stopped = false;
  // A test process that ends without afterAll (a crash, a timeout) still stops its server.
  const stopNow = () => {
    if (stopped) return;
    const [cmd, argv] = command(bindir, runAs, 'pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
    spawnSync(cmd, argv, { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopNow);
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopNow);
    try {
      await run(bindir, runAs, 'pg_ctl', ['stop', '-D', data, '-m', 'immediate', '-w']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return {
    port,
    superuser,
    owner,
    app,
    url,
    superQuery,
    async createDatabase(name) {
      await superQuery('postgres', `CREATE DATABASE ${name} OWNER ${owner.user}`);
      return { name, ownerUrl: url(owner, name), appUrl: url(app, name), superUrl: url(superuser, name) };
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    stop,
  };
}

/** A new database at the current schema, migrated by its owner with the app role's grants. */
export async function migratedDatabase(cluster: PgCluster, name: string): Promise<TestDatabase> {
  const db = await cluster.createDatabase(name);
  const owner = new pg.Pool({ connectionString: db.ownerUrl, max: 1 });
  try {
    await migratePostgres(owner, { appRole: cluster.app.user });
  } finally {
    await owner.end();
  }
  return db;
}
