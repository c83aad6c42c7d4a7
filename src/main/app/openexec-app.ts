import { writeFileSync, renameSync, rmSync } from 'node:fs';
import type { Clock } from '../core/clock.ts';
import { RetentionSchedule } from '../core/ledger/retention-schedule.ts';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { OpenExecCore } from '../core/openexec-core.ts';
import { createHttpServer } from '../api/http-server.ts';
import { isLoopbackHost } from '../api/request-guard.ts';
import { ConfigError, type OpenExecConfig } from './config.ts';
import { bindWarnings } from './bind-policy.ts';
import { loadTlsFiles, tlsExpiryWarnings } from './tls-files.ts';
import { EventHub } from '../core/events/event-hub.ts';
import { ProposalService } from '../core/proposals/proposal-service.ts';
import { GrantService } from '../core/grants/grant-service.ts';
import { ConsoleService } from '../core/console/console-service.ts';
import { registerProposalRoutes } from '../api/proposal-routes.ts';
import { AgentAuth } from '../api/agent-auth.ts';
import { registerClaudeCodeHook } from '../api/claude-code-hook.ts';
import { McpGateway } from '../mcp/gateway.ts';
import { registerMcpRoute } from '../mcp/mcp-http-route.ts';
import { registerProxyRoutes } from '../mcp/proxy-routes.ts';
import { ProxyGate } from '../mcp/proxy-gate.ts';
import { registerHostedRoutes } from '../mcp/hosted-route.ts';
import { closeHostedUpstreams, startHostedUpstreams, UpstreamStartError, type HostedUpstream } from '../mcp/hosted-upstreams.ts';
import { loadMcpUpstreams } from './mcp-upstreams.ts';
import { postgresTrust } from './db-trust.ts';
import { registerConsoleRoutes } from '../api/console-routes.ts';
import { registerProofRoutes } from '../api/proof-routes.ts';
import { registerConsoleChallenge } from '../api/console-challenge.ts';
import { createEventStreams } from '../api/event-stream.ts';
import type { ConsoleApi } from '../../shared/console-api.ts';
import { CONSOLE_TOKEN_FILE, newConsoleToken, writeConsoleToken } from './console-token.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { APP_VERSION } from '../core/version.ts';
import { loadActionsManifest } from './actions-manifest.ts';
import { checkDatabaseFiles } from './database-files.ts';
import { coreStartError, dataDirWriteError, listenError } from './startup-errors.ts';
import { tolerateUnwritableStdio } from './tolerant-stdio.ts';
import { SERVER_INFO_FILE } from './server-info.ts';
import { hardeningReport, probeHost } from './hardening-checks.ts';
import { gatherServerFacts } from './hardening-facts.ts';
import { createLogger } from './logging.ts';
import { logReceipts, logStartup } from './log-events.ts';
import { OpenExecMetrics } from './metrics.ts';
import { restoredLedgerNotice, writeBackupMarker } from './backup-marker.ts';
import { registerMetricsRoute } from '../api/metrics-route.ts';

export { SERVER_INFO_FILE };
const CLOSE_GRACE_MS = 1000;

export interface OpenExecApp {
  readonly core: OpenExecCore;
  readonly http: FastifyInstance;
  readonly proposals: ProposalService;
  readonly grants: GrantService;
  /** The operator's contract, for IPC; the same object serves /console/* over HTTP. */
  readonly console: ConsoleApi;
  readonly events: EventHub;
  /** The bearer token for /console/* (also in `console-token` in the data directory). */
  readonly consoleToken: string;
  /** `http://host:port` (`https://` with OPENEXEC_TLS_CERT) the API listens on. */
  readonly address: string;
  /** What an operator should know right now, in plain words (recomputed on each call). */
  warnings(): string[];
  /** On PostgreSQL, what leaves this host and whom it trusts (db-trust.ts), said once at start-up; null on SQLite. */
  readonly databaseTrust: string | null;
  close(): Promise<void>;
}

function formatAddress(scheme: 'http' | 'https', host: string, port: number): string {
  return `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

const AS_ROOT = 'running as root (uid 0): a handler that misbehaves can do anything on this host; run OpenExec as an unprivileged user';

const NO_CLAWSHIELD_KEY =
  'clawshield mode without CLAWSHIELD_PUBLIC_KEY: only approvals given in this console (the operator approving a proposal) can execute; every ClawShield artifact is refused';

/** The console token, then server.json, where the CLI finds the running server (atomically). */
function writeServerFiles(dataDir: string, token: string, infoFile: string, address: string): void {
  try {
    writeConsoleToken(dataDir, token);
  } catch (err) {
    throw dataDirWriteError(err, join(dataDir, CONSOLE_TOKEN_FILE));
  }
  const tmp = `${infoFile}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify({ address, pid: process.pid, startedAt: new Date().toISOString() }) + '\n', { mode: 0o600 });
    renameSync(tmp, infoFile);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw dataDirWriteError(err, infoFile);
  }
}

export interface StartOptions {
  /** Log lines to stderr as well as logs/ in the data directory (the headless server). */
  logToStderr?: boolean;
  /** The clock the core decides by (tests move it instead of waiting days). */
  clock?: Clock;
}

/** Starts the core and the loopback API; the headless entry and the Electron shell share this. */
export async function startOpenExec(config: OpenExecConfig, options: StartOptions = {}): Promise<OpenExecApp> {
  tolerateUnwritableStdio();
  const tls = loadTlsFiles(config);
  const bind = bindWarnings(config, tls !== null);
  const manifest = config.actionsFile === null ? null : loadActionsManifest(config.actionsFile, config.dataDir, config.env);
  const upstreamTargets = config.mcpUpstreamsFile === null ? [] : loadMcpUpstreams(config.mcpUpstreamsFile, config.env);
  const trust = config.postgresUrl === null ? null : postgresTrust(config.postgresUrl);
  if (trust?.problem != null && !config.dbAllowPlaintext) throw new ConfigError(`OPENEXEC_DB_URL: ${trust.problem}`);
  const lock = lockDataDir(config.dataDir);
  // The storage may report trouble (a lost PostgreSQL connection) before the log is open.
  let storageLog: ((err: unknown) => void) | null = null;
  let core: OpenExecCore;
  try {
    if (config.dbPath !== null) checkDatabaseFiles(config.dbPath);
    core = await OpenExecCore.open({
      ...config,
      manifest,
      ...(options.clock ? { clock: options.clock } : {}),
      onStorageError: (err) => storageLog?.(err),
    });
  } catch (err) {
    lock.release();
    throw coreStartError(err, config);
  }
  try {
    await core.checkpoints.checkAgainstWitness();
  } catch (err) {
    await core.close();
    lock.release();
    throw new ConfigError(`OPENEXEC_WITNESS_DIR: ${(err as Error).message}`);
  }
  const log = await createLogger(config, { stderr: options.logToStderr === true });
  storageLog = (err) => log.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'database');
  const restored = restoredLedgerNotice(config.dataDir, (await core.ledgerStore.head()).seq);
  const currentWarnings = (): string[] => [
    ...bind,
    ...(tls === null ? [] : tlsExpiryWarnings(tls)),
    ...(config.mode === 'clawshield' && config.clawshieldPublicKey === null ? [NO_CLAWSHIELD_KEY] : []),
    ...(core.allowList.list() === null ? ['no execution allow-list is configured: every registered action may run'] : []),
    ...(config.mode === 'demo' ? ['demo mode: allowed actions run at /execute without any approval'] : []),
    ...(process.getuid?.() === 0 ? [AS_ROOT] : []),
    ...(log.problem !== null ? [`${log.problem}; no log file is written`] : []),
    ...(restored !== null ? [restored] : []),
    ...(trust?.problem != null ? [`OPENEXEC_DB_ALLOW_PLAINTEXT is set: ${trust.line}`] : []),
  ];
  const events = new EventHub();
  core.ledgerStore.subscribe((receipts) => {
    for (const receipt of receipts) events.emit({ type: 'receipt', receipt });
  });
  logReceipts(core.ledgerStore, log.logger);
  const metrics = new OpenExecMetrics({
    ledger: core.ledgerStore,
    isAction: (name) => core.registry.has(name),
    pendingProposals: () => proposals.records.countPending(),
  });
  const proposals = new ProposalService(core, events, {
    defaultTtlSeconds: config.proposalTtlSeconds,
    tenantId: config.tenantId,
  });
  const grants = new GrantService(core);
  const proxyGate = new ProxyGate(core, proposals, config.mcpReadOnlyDirect);
  const mcpHoldMs = config.mcpHoldSeconds * 1000;
  // Started (and their tools pinned, with receipts) before the API listens: a bad upstream stops start-up.
  let hosted: Map<string, HostedUpstream>;
  try {
    hosted = await startHostedUpstreams(upstreamTargets, proxyGate, mcpHoldMs);
  } catch (err) {
    await core.close();
    await log.close();
    lock.release();
    throw err instanceof UpstreamStartError ? new ConfigError(`OPENEXEC_MCP_UPSTREAMS: ${err.message}`) : err;
  }
  const retention =
    config.retentionMs === null
      ? null
      : new RetentionSchedule(
          (cutoff, trigger) => core.purgeOlderThan(cutoff, trigger),
          core.clock,
          config.retentionMs,
          (outcome) => {
            if ('error' in outcome) log.logger.warn({ err: String(outcome.error) }, 'retention purge failed; tried again within the hour');
            else log.logger.info({ purge: outcome.purge }, 'retention');
          },
        );
  let address = '';
  const consoleApi = new ConsoleService(
    core,
    proposals,
    events,
    {
      version: APP_VERSION,
      apiAddress: () => address,
      database: config.dbDisplay,
      tenantId: config.tenantId,
      warnings: () => currentWarnings(),
      onBackup: (b) => writeBackupMarker(config.dataDir, b, new Date(core.clock.now()).toISOString()),
      hardeningReport: async () => {
        const url = new URL(address);
        const facts = await gatherServerFacts(core, {
          boundHost: url.hostname.replace(/^\[|\]$/g, ''),
          boundPort: Number(url.port),
          logging: { file: log.file, maxBytes: config.logMaxBytes, files: config.logFiles, level: config.logLevel },
          metrics: true,
        });
        return hardeningReport(config, facts, probeHost());
      },
    },
    grants,
  );
  // Issued before listening (the routes need it) but written only once the port is ours, so a
  // second start that fails never replaces the running server's token.
  const token = newConsoleToken();
  const extraHosts = isLoopbackHost(config.host) ? [] : [config.host];
  const agentAuth = new AgentAuth(core.agents, config.requireAgentToken);
  const http = createHttpServer(core, {
    extraHosts,
    tls: tls === null ? null : { cert: tls.cert, key: tls.key },
    limits: { requestTimeoutMs: config.requestTimeoutSeconds * 1000, maxConnections: config.maxConnections },
    logger: log.logger,
    observe: (done) => metrics.observeRequest(done),
    agentAuth,
    register: (app) => {
      const stream = createEventStreams(app, events, { maxSubscribers: config.maxSubscribers });
      app.get('/events', async (req, reply) => stream(reply, { agent: await agentAuth.of(req) }));
      registerProposalRoutes(app, proposals, core, agentAuth);
      registerClaudeCodeHook(app, core, proposals, agentAuth, config.hookHoldSeconds * 1000);
      registerMcpRoute(app, new McpGateway(core, proposals, { holdMs: mcpHoldMs }), agentAuth);
      registerProxyRoutes(app, proxyGate, agentAuth, new Set(hosted.keys()));
      registerHostedRoutes(app, hosted, proxyGate, proposals, agentAuth);
      registerProofRoutes(app, core.proofs);
      registerMetricsRoute(app, metrics);
      registerConsoleRoutes(app, consoleApi, token, stream);
      registerConsoleChallenge(app, token, () => ({ address, pid: process.pid }));
    },
  });
  try {
    await http.listen({ host: config.host, port: config.port });
  } catch (err) {
    await closeHostedUpstreams(hosted);
    await core.close();
    await log.close();
    lock.release();
    throw listenError(err, config);
  }
  const bound = http.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : config.port;
  address = formatAddress(tls === null ? 'http' : 'https', config.host, port);
  const infoFile = join(config.dataDir, SERVER_INFO_FILE);
  try {
    try {
      await proposals.start();
      grants.start();
      core.checkpoints.start();
      retention?.start();
    } catch (err) {
      throw coreStartError(err, config);
    }
    writeServerFiles(config.dataDir, token, infoFile, address);
  } catch (err) {
    proposals.stop();
    grants.stop();
    core.checkpoints.stop();
    retention?.stop();
    await http.close();
    await closeHostedUpstreams(hosted);
    await core.close();
    await log.close();
    lock.release();
    throw err;
  }
  logStartup(log, config, address, currentWarnings());
  if (trust !== null) log.logger.info(trust.line);

  let closed = false;
  return {
    core,
    http,
    proposals,
    grants,
    console: consoleApi,
    events,
    consoleToken: token,
    address,
    warnings: currentWarnings,
    databaseTrust: trust?.line ?? null,
    async close() {
      if (closed) return;
      closed = true;
      proposals.stop();
      grants.stop();
      core.checkpoints.stop();
      retention?.stop();
      // In-flight requests get a moment to finish; then connections that never sent a
      // request (clients keep spare sockets open) are cut, so a stop never hangs on them.
      const force = setTimeout(() => http.server.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await http.close();
      } finally {
        clearTimeout(force);
      }
      rmSync(infoFile, { force: true });
      await closeHostedUpstreams(hosted);
      await core.close();
      log.logger.info('stopped');
      await log.close();
      lock.release();
    },
  };
}
