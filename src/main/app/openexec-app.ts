import { writeFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { OpenExecCore } from '../core/openexec-core.ts';
import { createHttpServer } from '../api/http-server.ts';
import { isLoopbackHost } from '../api/request-guard.ts';
import { ConfigError, type OpenExecConfig } from './config.ts';
import { EventHub } from '../core/events/event-hub.ts';
import { ProposalService } from '../core/proposals/proposal-service.ts';
import { ConsoleService } from '../core/console/console-service.ts';
import { registerProposalRoutes } from '../api/proposal-routes.ts';
import { AgentAuth } from '../api/agent-auth.ts';
import { registerClaudeCodeHook } from '../api/claude-code-hook.ts';
import { McpGateway } from '../mcp/gateway.ts';
import { registerMcpRoute } from '../mcp/mcp-http-route.ts';
import { registerProxyRoutes } from '../mcp/proxy-routes.ts';
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

export const SERVER_INFO_FILE = 'server.json';
const CLOSE_GRACE_MS = 1000;

export interface OpenExecApp {
  readonly core: OpenExecCore;
  readonly http: FastifyInstance;
  readonly proposals: ProposalService;
  /** The operator's contract, for IPC; the same object serves /console/* over HTTP. */
  readonly console: ConsoleApi;
  readonly events: EventHub;
  /** The bearer token for /console/* (also in `console-token` in the data directory). */
  readonly consoleToken: string;
  /** `http://host:port` the API listens on. */
  readonly address: string;
  /** What an operator should know right now, in plain words (recomputed on each call). */
  warnings(): string[];
  close(): Promise<void>;
}

function formatAddress(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Refuses a non-loopback bind unless the operator asked for it explicitly. */
function bindWarnings(config: OpenExecConfig): string[] {
  if (isLoopbackHost(config.host)) return [];
  if (!config.allowNonLoopback) {
    throw new ConfigError(
      `OPENEXEC_HOST: ${config.host} is not a loopback address; agents elsewhere could submit executions. ` +
        'Pass --allow-non-loopback (or OPENEXEC_ALLOW_NON_LOOPBACK=1) if that is really intended',
    );
  }
  return [`the API listens on ${config.host}, which is not loopback: anyone who can reach it can submit proposals and executions`];
}

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

/** Starts the core and the loopback API; the headless entry and the Electron shell share this. */
export async function startOpenExec(config: OpenExecConfig): Promise<OpenExecApp> {
  tolerateUnwritableStdio();
  const bind = bindWarnings(config);
  const manifest = config.actionsFile === null ? null : loadActionsManifest(config.actionsFile, config.dataDir, config.env);
  const lock = lockDataDir(config.dataDir);
  let core: OpenExecCore;
  try {
    checkDatabaseFiles(config.dbPath);
    core = new OpenExecCore({ ...config, manifest });
  } catch (err) {
    lock.release();
    throw coreStartError(err, config);
  }
  try {
    core.checkpoints.checkAgainstWitness();
  } catch (err) {
    core.close();
    lock.release();
    throw new ConfigError(`OPENEXEC_WITNESS_DIR: ${(err as Error).message}`);
  }
  const currentWarnings = (): string[] => [
    ...bind,
    ...(config.mode === 'clawshield' && config.clawshieldPublicKey === null ? [NO_CLAWSHIELD_KEY] : []),
    ...(core.allowList.list() === null ? ['no execution allow-list is configured: every registered action may run'] : []),
    ...(config.mode === 'demo' ? ['demo mode: allowed actions run at /execute without any approval'] : []),
  ];
  const events = new EventHub();
  core.ledger.subscribe((receipt) => events.emit({ type: 'receipt', receipt }));
  const proposals = new ProposalService(core, events, {
    defaultTtlSeconds: config.proposalTtlSeconds,
    tenantId: config.tenantId,
  });
  let address = '';
  const consoleApi = new ConsoleService(core, proposals, events, {
    version: APP_VERSION,
    apiAddress: () => address,
    tenantId: config.tenantId,
    warnings: () => currentWarnings(),
  });
  // Issued before listening (the routes need it) but written only once the port is ours, so a
  // second start that fails never replaces the running server's token.
  const token = newConsoleToken();
  const extraHosts = isLoopbackHost(config.host) ? [] : [config.host];
  const agentAuth = new AgentAuth(core.agents, config.requireAgentToken);
  const http = createHttpServer(core, {
    extraHosts,
    agentAuth,
    register: (app) => {
      const stream = createEventStreams(app, events);
      app.get('/events', (_req, reply) => stream(reply));
      registerProposalRoutes(app, proposals, core, agentAuth);
      registerClaudeCodeHook(app, core, proposals, agentAuth, config.hookHoldSeconds * 1000);
      registerMcpRoute(app, new McpGateway(core, proposals, { holdMs: config.mcpHoldSeconds * 1000 }), agentAuth);
      registerProxyRoutes(app, core, proposals, agentAuth, config.mcpReadOnlyDirect);
      registerProofRoutes(app, core.proofs);
      registerConsoleRoutes(app, consoleApi, token, stream);
      registerConsoleChallenge(app, token, () => ({ address, pid: process.pid }));
    },
  });
  try {
    await http.listen({ host: config.host, port: config.port });
  } catch (err) {
    core.close();
    lock.release();
    throw listenError(err, config);
  }
  const bound = http.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : config.port;
  address = formatAddress(config.host, port);
  const infoFile = join(config.dataDir, SERVER_INFO_FILE);
  try {
    try {
      proposals.start();
      core.checkpoints.start();
    } catch (err) {
      throw coreStartError(err, config);
    }
    writeServerFiles(config.dataDir, token, infoFile, address);
  } catch (err) {
    proposals.stop();
    core.checkpoints.stop();
    await http.close();
    core.close();
    lock.release();
    throw err;
  }

  let closed = false;
  return {
    core,
    http,
    proposals,
    console: consoleApi,
    events,
    consoleToken: token,
    address,
    warnings: currentWarnings,
    async close() {
      if (closed) return;
      closed = true;
      proposals.stop();
      core.checkpoints.stop();
      // In-flight requests get a moment to finish; then connections that never sent a
      // request (clients keep spare sockets open) are cut, so a stop never hangs on them.
      const force = setTimeout(() => http.server.closeAllConnections(), CLOSE_GRACE_MS);
      try {
        await http.close();
      } finally {
        clearTimeout(force);
      }
      rmSync(infoFile, { force: true });
      core.close();
      lock.release();
    },
  };
}
