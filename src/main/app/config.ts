import { existsSync } from 'node:fs';
import { parseRetention } from '../../shared/retention.ts';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { ExecMode } from '../../shared/console-dto.ts';
import type { Synchronous } from '../core/store/database.ts';
import { KeyFormatError, parsePublicKeyPem } from '../core/crypto/ed25519.ts';
import { checkPostgresUrl, isPostgresUrl, redactDbUrl } from './db-url.ts';

/** A setting that cannot be used: start-up stops with this one line, naming the variable. */
export class ConfigError extends Error {
  readonly code = 'config';
}

/** The settings, with where OPENEXEC_DB_URL puts the ledger (DbTarget: a SQLite file or a PostgreSQL URL). */
export type OpenExecConfig = ConfigFields & DbTarget;

interface ConfigFields {
  mode: ExecMode;
  /** Raw 32-byte Ed25519 key from CLAWSHIELD_PUBLIC_KEY, or null when unset. */
  clawshieldPublicKey: Uint8Array | null;
  tenantId: string | null;
  /** OPENEXEC_ALLOWED_ACTIONS; null when unset (the console manages the list). */
  allowedActions: string[] | null;
  dataDir: string;
  /** OPENEXEC_DB_ALLOW_PLAINTEXT: a remote PostgreSQL server reached without verified TLS, knowingly. */
  dbAllowPlaintext: boolean;
  /** The database as a URL fit to show (Status): never a password. */
  dbDisplay: string;
  host: string;
  port: number;
  allowNonLoopback: boolean;
  /** OPENEXEC_TLS_CERT (absolute): served with OPENEXEC_TLS_KEY; the certificate the CLI trusts. */
  tlsCertFile: string | null;
  /** OPENEXEC_TLS_KEY (absolute). The pair is checked at start-up (the CLI needs only the certificate). */
  tlsKeyFile: string | null;
  /** OPENEXEC_ALLOW_PLAINTEXT: plain HTTP on a non-loopback address, knowingly. */
  allowPlaintext: boolean;
  synchronous: Synchronous;
  proposalTtlSeconds: number;
  clockSkewSeconds: number;
  /** A signed checkpoint every this many receipts, or every interval when any were added. */
  checkpointEvery: number;
  checkpointIntervalSeconds: number;
  /** OPENEXEC_WITNESS_DIR: every checkpoint is copied here, co-signed by the operator. */
  witnessDir: string | null;
  /** The manifest of declared actions: OPENEXEC_ACTIONS, else actions.yaml in the data directory if present. */
  actionsFile: string | null;
  /** OPENEXEC_LOG_LEVEL: pino's level for logs/ in the data directory (and stderr headless). */
  logLevel: LogLevel;
  /** A log file is rolled over at this size (OPENEXEC_LOG_MAX_BYTES)… */
  logMaxBytes: number;
  /** …and this many rolled files are kept besides the current one (OPENEXEC_LOG_FILES). */
  logFiles: number;
  /** OPENEXEC_RETENTION: bodies older than this are purged daily (ms); null keeps them for good. */
  retentionMs: number | null;
  /** OPENEXEC_REQUIRE_AGENT_TOKEN=1: agent routes refuse a request without a valid agent token. */
  requireAgentToken: boolean;
  /** OPENEXEC_HOOK_HOLD_SECONDS: how long the Claude Code hook route holds a pending decision. */
  hookHoldSeconds: number;
  /** OPENEXEC_MCP_HOLD_SECONDS: how long /mcp holds a call without a progress token before "pending, retry". */
  mcpHoldSeconds: number;
  /** OPENEXEC_MCP_READ_ONLY_DIRECT: proxied servers whose read-only tools run with no decision (still witnessed). */
  mcpReadOnlyDirect: string[];
  /** OPENEXEC_MCP_UPSTREAMS: the file declaring the MCP servers this server hosts at /mcp/NAME; null for none. */
  mcpUpstreamsFile: string | null;
  /** Where the manifest's environment references (`{env: NAME}`, `inherit_env`) are read. */
  env: Env;
  /** OPENEXEC_REQUEST_TIMEOUT: a request's headers and body must arrive within this. */
  requestTimeoutSeconds: number;
  /** OPENEXEC_MAX_CONNECTIONS: open connections beyond this are closed at once. */
  maxConnections: number;
  /** OPENEXEC_MAX_SUBSCRIBERS: open event streams beyond this are refused with 503. */
  maxSubscribers: number;
}

export interface LoadConfigOptions {
  /** ~/.openexec headless; Electron's userData folder in the app. */
  dataDirDefault?: string;
  /** `--allow-non-loopback` on the command line. */
  allowNonLoopback?: boolean;
}

type Env = Record<string, string | undefined>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

function logLevelOf(env: Env): LogLevel {
  const raw = (env['OPENEXEC_LOG_LEVEL'] ?? '').trim().toLowerCase() || 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(raw)) fail('OPENEXEC_LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}, got '${raw}'`);
  return raw as LogLevel;
}

export const DEFAULT_ACTIONS_FILE = 'actions.yaml';

function fail(variable: string, problem: string): never {
  throw new ConfigError(`${variable}: ${problem}`);
}

function flag(env: Env, name: string): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (['', '0', 'false', 'no'].includes(raw)) return false;
  if (['1', 'true', 'yes'].includes(raw)) return true;
  fail(name, `must be 1 or 0, got '${raw}'`);
}

function serverNames(env: Env, name: string): string[] {
  const names = (env[name] ?? '')
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const bad = names.find((n) => !/^[A-Za-z0-9._-]{1,64}$/.test(n));
  if (bad !== undefined) fail(name, `'${bad}' is not a server name (1-64 letters, digits, '.', '_' or '-')`);
  return names;
}

function retentionOf(env: Env): number | null {
  const raw = env['OPENEXEC_RETENTION']?.trim();
  if (raw === undefined || raw === '') return null;
  const period = parseRetention(raw);
  if (!period.ok) fail('OPENEXEC_RETENTION', period.problem);
  return period.ms;
}

function positiveInt(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > max) fail(name, `must be a whole number from 1 to ${max}, got '${raw}'`);
  return Number(raw);
}

/**
 * Where OPENEXEC_DB_URL puts the ledger: a SQLite file (`dbPath`), or a PostgreSQL database
 * (`postgresUrl`, the URL as given: it may hold a password, so only dbDisplay is ever shown).
 */
export type DbTarget = { dbPath: string; postgresUrl: null } | { dbPath: null; postgresUrl: string };

/**
 * `sqlite:///rel` (relative to the data directory), `sqlite:////abs` (protocol §4), or a
 * `postgresql://` / `postgres://` URL, whose syntax is checked here (its password never shown).
 */
export function resolveDbUrl(url: string, dataDir: string): DbTarget {
  if (isPostgresUrl(url)) {
    checkPostgresUrl(url);
    return { dbPath: null, postgresUrl: url };
  }
  const m = /^sqlite:\/\/\/(.+)$/.exec(url);
  if (!m) {
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1];
    fail(
      'OPENEXEC_DB_URL',
      scheme && scheme !== 'sqlite'
        ? `unsupported scheme '${scheme}': only sqlite:/// and postgresql:// are supported`
        : `'${redactDbUrl(url)}' is not a sqlite:/// URL (three slashes for a relative path, four for an absolute one)`,
    );
  }
  const path = m[1]!;
  if (path.startsWith(':memory:')) fail('OPENEXEC_DB_URL', 'an in-memory database would lose the ledger; give a file path');
  return { dbPath: isAbsolute(path) ? path : resolve(dataDir, path), postgresUrl: null };
}

/** An absolute directory of the operator's choosing, outside the data directory's reach. */
function witnessDirOf(env: Env, dataDir: string): string | null {
  const raw = env['OPENEXEC_WITNESS_DIR']?.trim();
  if (!raw) return null;
  if (!isAbsolute(raw)) fail('OPENEXEC_WITNESS_DIR', `must be an absolute path, got '${raw}'`);
  const dir = resolve(raw);
  if (dir === dataDir || dir.startsWith(dataDir + '/')) {
    fail('OPENEXEC_WITNESS_DIR', 'must be outside the data directory: whoever can rewrite the ledger could rewrite its witness');
  }
  return dir;
}

const truthy = (env: Env, name: string): boolean => ['1', 'true', 'yes'].includes((env[name] ?? '').trim().toLowerCase());

/** A file named by a variable; a relative path is taken from the working directory. */
function fileOf(env: Env, name: string): string | null {
  const raw = env[name]?.trim();
  return raw ? resolve(raw) : null;
}

export function loadConfig(env: Env, options: LoadConfigOptions = {}): OpenExecConfig {
  const modeRaw = (env['OPENEXEC_MODE'] ?? '').trim() || 'demo';
  if (modeRaw !== 'demo' && modeRaw !== 'clawshield') fail('OPENEXEC_MODE', `unknown mode '${modeRaw}' (use demo or clawshield)`);

  let clawshieldPublicKey: Uint8Array | null = null;
  const pem = env['CLAWSHIELD_PUBLIC_KEY']?.trim();
  if (pem) {
    try {
      clawshieldPublicKey = parsePublicKeyPem(pem);
    } catch (err) {
      fail('CLAWSHIELD_PUBLIC_KEY', err instanceof KeyFormatError ? err.message : 'not an Ed25519 PEM public key');
    }
  }
  const tenantId = env['CLAWSHIELD_TENANT_ID']?.trim() || null;

  const listRaw = env['OPENEXEC_ALLOWED_ACTIONS'];
  const listed =
    listRaw
      ?.split(',')
      .map((a) => a.trim())
      .filter((a) => a !== '') ?? [];
  const allowedActions = listed.length > 0 ? [...new Set(listed)] : null;

  const dataDirRaw = env['OPENEXEC_DATA_DIR']?.trim() || options.dataDirDefault || join(homedir(), '.openexec');
  const dataDir = resolve(dataDirRaw);
  const db = resolveDbUrl(env['OPENEXEC_DB_URL']?.trim() || 'sqlite:///openexec.db', dataDir);

  const host = env['OPENEXEC_HOST']?.trim() || '127.0.0.1';
  const portRaw = env['OPENEXEC_PORT']?.trim() || '5000';
  if (!/^\d+$/.test(portRaw) || Number(portRaw) > 65535) fail('OPENEXEC_PORT', `'${portRaw}' is not a port number (0-65535)`);

  const syncRaw = (env['OPENEXEC_SYNCHRONOUS'] ?? '').trim().toUpperCase() || 'NORMAL';
  if (syncRaw !== 'NORMAL' && syncRaw !== 'FULL') fail('OPENEXEC_SYNCHRONOUS', `must be normal or full, got '${syncRaw.toLowerCase()}'`);

  const actionsRaw = env['OPENEXEC_ACTIONS']?.trim();
  const defaultActions = join(dataDir, DEFAULT_ACTIONS_FILE);
  const actionsFile = actionsRaw ? resolve(actionsRaw) : existsSync(defaultActions) ? defaultActions : null;
  if (actionsRaw && !existsSync(actionsFile!)) fail('OPENEXEC_ACTIONS', `${actionsFile} does not exist`);

  const mcpUpstreamsFile = fileOf(env, 'OPENEXEC_MCP_UPSTREAMS');
  if (mcpUpstreamsFile !== null && !existsSync(mcpUpstreamsFile)) fail('OPENEXEC_MCP_UPSTREAMS', `${mcpUpstreamsFile} does not exist`);

  const allowNonLoopback = options.allowNonLoopback === true || truthy(env, 'OPENEXEC_ALLOW_NON_LOOPBACK');

  const maxConnections = positiveInt(env, 'OPENEXEC_MAX_CONNECTIONS', 2048, 100_000);
  const maxSubscribers = positiveInt(env, 'OPENEXEC_MAX_SUBSCRIBERS', 128, 100_000);
  if (maxSubscribers >= maxConnections) {
    fail(
      'OPENEXEC_MAX_SUBSCRIBERS',
      `must be below OPENEXEC_MAX_CONNECTIONS (${maxConnections}), or event streams could hold every connection`,
    );
  }

  return {
    mode: modeRaw,
    clawshieldPublicKey,
    tenantId,
    allowedActions,
    dataDir,
    ...db,
    dbAllowPlaintext: flag(env, 'OPENEXEC_DB_ALLOW_PLAINTEXT'),
    dbDisplay: db.postgresUrl === null ? `sqlite:///${db.dbPath}` : redactDbUrl(db.postgresUrl),
    host,
    port: Number(portRaw),
    allowNonLoopback,
    tlsCertFile: fileOf(env, 'OPENEXEC_TLS_CERT'),
    tlsKeyFile: fileOf(env, 'OPENEXEC_TLS_KEY'),
    allowPlaintext: truthy(env, 'OPENEXEC_ALLOW_PLAINTEXT'),
    synchronous: syncRaw,
    proposalTtlSeconds: positiveInt(env, 'OPENEXEC_PROPOSAL_TTL', 600, 7 * 24 * 3600),
    clockSkewSeconds: positiveInt(env, 'OPENEXEC_CLOCK_SKEW', 120, 3600),
    checkpointEvery: positiveInt(env, 'OPENEXEC_CHECKPOINT_EVERY', 1000, 1_000_000),
    checkpointIntervalSeconds: positiveInt(env, 'OPENEXEC_CHECKPOINT_INTERVAL', 60, 24 * 3600),
    witnessDir: witnessDirOf(env, dataDir),
    logLevel: logLevelOf(env),
    logMaxBytes: positiveInt(env, 'OPENEXEC_LOG_MAX_BYTES', 10 * 1024 * 1024, 1024 ** 3),
    logFiles: positiveInt(env, 'OPENEXEC_LOG_FILES', 5, 100),
    retentionMs: retentionOf(env),
    actionsFile,
    requireAgentToken: flag(env, 'OPENEXEC_REQUIRE_AGENT_TOKEN'),
    hookHoldSeconds: positiveInt(env, 'OPENEXEC_HOOK_HOLD_SECONDS', 50, 3600),
    mcpHoldSeconds: positiveInt(env, 'OPENEXEC_MCP_HOLD_SECONDS', 50, 3600),
    mcpReadOnlyDirect: serverNames(env, 'OPENEXEC_MCP_READ_ONLY_DIRECT'),
    mcpUpstreamsFile,
    env,
    requestTimeoutSeconds: positiveInt(env, 'OPENEXEC_REQUEST_TIMEOUT', 10, 300),
    maxConnections,
    maxSubscribers,
  };
}
