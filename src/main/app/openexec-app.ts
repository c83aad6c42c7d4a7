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
import { registerConsoleRoutes } from '../api/console-routes.ts';
import { createEventStreams } from '../api/event-stream.ts';
import type { ConsoleApi } from '../../shared/console-api.ts';
import { newConsoleToken, writeConsoleToken } from './console-token.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { APP_VERSION } from './version.ts';

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

/** Starts the core and the loopback API; the headless entry and the Electron shell share this. */
export async function startOpenExec(config: OpenExecConfig): Promise<OpenExecApp> {
  const bind = bindWarnings(config);
  const lock = lockDataDir(config.dataDir);
  let core: OpenExecCore;
  try {
    core = new OpenExecCore(config);
  } catch (err) {
    lock.release();
    throw err;
  }
  const currentWarnings = (): string[] => [
    ...bind,
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
  const http = createHttpServer(core, {
    extraHosts,
    limits: { requestTimeoutMs: config.requestTimeoutSeconds * 1000, maxConnections: config.maxConnections },
    register: (app) => {
      const stream = createEventStreams(app, events, { maxSubscribers: config.maxSubscribers });
      app.get('/events', (_req, reply) => stream(reply));
      registerProposalRoutes(app, proposals, core);
      registerConsoleRoutes(app, consoleApi, token, stream);
    },
  });
  try {
    await http.listen({ host: config.host, port: config.port });
  } catch (err) {
    core.close();
    lock.release();
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new ConfigError(`OPENEXEC_PORT: ${config.host}:${config.port} is already in use`);
    if (code === 'EADDRNOTAVAIL') throw new ConfigError(`OPENEXEC_HOST: ${config.host} is not an address of this machine`);
    throw err;
  }
  const bound = http.server.address();
  const port = typeof bound === 'object' && bound !== null ? bound.port : config.port;
  address = formatAddress(config.host, port);
  proposals.start();

  writeConsoleToken(config.dataDir, token);
  // The CLI finds the running server here; written atomically, removed on a clean stop.
  const infoFile = join(config.dataDir, SERVER_INFO_FILE);
  const tmp = `${infoFile}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify({ address, pid: process.pid, startedAt: new Date().toISOString() }) + '\n', { mode: 0o600 });
  renameSync(tmp, infoFile);

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
