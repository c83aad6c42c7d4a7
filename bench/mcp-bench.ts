import { rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { REPO_ROOT, tempDir } from '../test/support/harness.ts';
import { NODE_BIN, spawnServer, waitForExit } from '../test/support/server-process.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { cpuSeconds } from './process-cpu.ts';
import { cli, CLI_BIN } from '../test/support/cli.ts';
import { percentile } from './execute-bench.ts';
import { AgentHttp } from '../src/main/mcp/agent-http.ts';
import { PROXY_PATH } from '../src/main/mcp/proxy-routes.ts';

export interface McpFigures {
  calls: number;
  /** The SDK Client calling server-everything's `echo` directly over stdio: the floor. */
  directP50ms: number;
  /** The same call through `openexec mcp proxy` with no decision needed (a read-only tool, OPENEXEC_MCP_READ_ONLY_DIRECT). */
  proxyP50ms: number;
  proxyP99ms: number;
  addedP50ms: number;
  /**
   * The same call through the server's hosted upstream (OPENEXEC_MCP_UPSTREAMS, /mcp/everything),
   * made by the SDK's own streamable HTTP client: one HTTP round trip, the gate and the witness
   * in the server's process, the server's stdio hop to the upstream.
   */
  hostedP50ms: number;
  hostedP99ms: number;
  hostedAddedP50ms: number;
  /** One loopback HTTP round trip to the server (GET /health) through `fetch` in the same run (the proxy's own client is faster: below). */
  httpRoundTripP50ms: number;
  /**
   * The proxy's own legs, each asked from this process with the proxy's own client (AgentHttp:
   * kept-alive node:http without Nagle) in the same rounds: GET /health (the client's floor),
   * the gate (POST /mcp-proxy/call, answered `direct`) and the witness (POST /mcp-proxy/report:
   * a receipt signed and committed before the answer).
   */
  agentHttpRoundTripP50ms: number;
  gateP50ms: number;
  witnessP50ms: number;
  /**
   * What the legs leave of the proxy's time once the two stdio hops are counted at the direct
   * call's cost: the proxy process's own work, and each hop's wake-up of a process that has sat
   * idle (legs asked back to back, as above, find their peer awake).
   */
  unaccountedP50ms: number;
  /**
   * The same proxy in front of a stand-in that answers the gate and the witness at once and
   * records nothing (instant-boundary.ts), in the same rounds: what the proxy's own hops cost on
   * this machine (process wake-ups, pipes, loopback HTTP, the SDK, the proxy's work), the floor
   * the 2 ms target is measured against. `addedP50ms` minus this is the boundary's own share.
   */
  relayFloorP50ms: number;
  relayFloorAddedP50ms: number;
  /** CPU per proxied call (user + system, all threads): the proxy process and the server. */
  proxyCpuUs: number | null;
  serverCpuUs: number | null;
  errors: number;
  /** The machine's 1-minute load average before and after (2 cores: anything near 2 is a busy machine). */
  loadAverage: { before: number; after: number };
}

const EVERYTHING = join(REPO_ROOT, 'node_modules/@modelcontextprotocol/server-everything/dist/index.js');

async function connected(command: string, args: string[], env?: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'openexec-bench', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command, args, ...(env ? { env } : {}), stderr: 'ignore' }));
  return client;
}

/** The stand-in boundary (instant-boundary.ts) in a process of its own, once it listens. */
function instantBoundary(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(NODE_BIN, ['--import', 'tsx', join(REPO_ROOT, 'bench/instant-boundary.ts')], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+)/.exec(out);
      if (m) resolve({ child, url: m[1]! });
    });
    child.once('exit', (code) => reject(new Error(`the instant boundary exited with ${code}`)));
  });
}

/** The process id of a stdio client's server (the SDK's transport knows it). */
function childPid(client: Client): number {
  const pid = (client.transport as StdioClientTransport | undefined)?.pid;
  if (typeof pid !== 'number') throw new Error('no process id for a stdio client');
  return pid;
}

/** A running total of CPU seconds, null once a reading failed. */
function cpuTotal(total: number | null, before: number | null, after: number | null): number | null {
  return total === null || before === null || after === null ? null : total + (after - before);
}

/**
 * A call through the proxy that needs no decision (gate, forward, witness: two loopback
 * requests and a signed receipt) against the same call made to the upstream directly,
 * interleaved in rounds so that a busy neighbour weighs on both alike.
 */
export async function benchMcp(calls: number): Promise<McpFigures> {
  const loadBefore = loadavg()[0]!;
  const dataDir = tempDir('openexec-bench-');
  const upstreams = join(tempDir('openexec-bench-'), 'upstreams.json');
  writeFileSync(upstreams, JSON.stringify({ upstreams: { everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] } } }));
  const server = await spawnServer({
    OPENEXEC_DATA_DIR: dataDir,
    OPENEXEC_MODE: 'clawshield',
    // The hosted upstream is `everything`; the proxy's own is `proxied`: the proxy routes refuse
    // a name the server hosts (only the server reports for those).
    OPENEXEC_ALLOWED_ACTIONS: 'mcp:everything/*,mcp:proxied/*',
    OPENEXEC_MCP_READ_ONLY_DIRECT: 'everything,proxied',
    OPENEXEC_MCP_UPSTREAMS: upstreams,
  });
  const clients: Client[] = [];
  const stops: (() => void)[] = [];
  let errors = 0;
  try {
    const added = await cli(dataDir, 'agents', 'add', 'bench', '--json');
    const { token } = JSON.parse(added.stdout) as { token: string };
    const direct = await connected(process.execPath, [EVERYTHING, 'stdio']);
    const proxy = await connected(CLI_BIN, ['mcp', 'proxy', '--name', 'proxied', '--', process.execPath, EVERYTHING, 'stdio'], {
      ...(process.env as Record<string, string>),
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_URL: server.url,
      OPENEXEC_AGENT_TOKEN: token,
    });
    const instant = await instantBoundary();
    stops.push(() => instant.child.kill('SIGTERM'));
    const relay = await connected(CLI_BIN, ['mcp', 'proxy', '--name', 'proxied', '--', process.execPath, EVERYTHING, 'stdio'], {
      ...(process.env as Record<string, string>),
      OPENEXEC_DATA_DIR: dataDir,
      OPENEXEC_URL: instant.url,
      OPENEXEC_AGENT_TOKEN: token,
    });
    clients.push(relay);
    const hosted = new Client({ name: 'openexec-bench', version: '1.0.0' });
    await hosted.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp/everything`), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    clients.push(direct, proxy, hosted);
    const proxyPid = childPid(proxy);
    const http = new AgentHttp(server.url, token);
    const pinned = await http.expectOk('POST', `${PROXY_PATH}/tools`, { server: 'proxied', tools: (await direct.listTools()).tools });
    const echo = (pinned.body['tools'] as { name: string; definition_hash: string }[]).find((t) => t.name === 'echo')!;
    const leg = async (out: number[], method: 'GET' | 'POST', path: string, body?: unknown): Promise<void> => {
      const t0 = performance.now();
      await http.expectOk(method, path, body);
      out.push(performance.now() - t0);
    };
    const call = (i: number) => ({
      server: 'proxied',
      tool: 'echo',
      arguments: { message: `bench ${i}` },
      nonce: `bench-${i}-${Math.random()}`,
    });
    const once = async (client: Client, i: number): Promise<number> => {
      const t0 = performance.now();
      const r = await client.callTool({ name: 'echo', arguments: { message: `bench ${i}` } });
      const ms = performance.now() - t0;
      if (r.isError) errors++;
      return ms;
    };
    for (let i = 0; i < 50; i++) {
      await once(direct, i);
      await once(proxy, i);
      await once(hosted, i);
      await once(relay, i);
    }
    const d: number[] = [];
    const p: number[] = [];
    const hp: number[] = [];
    const h: number[] = [];
    const a: number[] = [];
    const g: number[] = [];
    const w: number[] = [];
    const f: number[] = [];
    let proxyCpu: number | null = 0;
    let serverCpu: number | null = 0;
    const rounds = 10;
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < calls / rounds; i++) d.push(await once(direct, i));
      const proxyCpu0 = cpuSeconds(proxyPid);
      const serverCpu0 = cpuSeconds(server.child.pid!);
      for (let i = 0; i < calls / rounds; i++) p.push(await once(proxy, i));
      proxyCpu = cpuTotal(proxyCpu, proxyCpu0, cpuSeconds(proxyPid));
      serverCpu = cpuTotal(serverCpu, serverCpu0, cpuSeconds(server.child.pid!));
      for (let i = 0; i < calls / rounds; i++) f.push(await once(relay, i));
      for (let i = 0; i < calls / rounds; i++) hp.push(await once(hosted, i));
      for (let i = 0; i < calls / rounds; i++) {
        const t0 = performance.now();
        await (await fetch(`${server.url}/health`)).text();
        h.push(performance.now() - t0);
      }
      for (let i = 0; i < calls / rounds; i++) await leg(a, 'GET', '/health');
      for (let i = 0; i < calls / rounds; i++)
        await leg(g, 'POST', `${PROXY_PATH}/call`, { ...call(i), definition_hash: echo.definition_hash });
      for (let i = 0; i < calls / rounds; i++) {
        const result = { content: [{ type: 'text', text: `Echo: bench ${i}` }] };
        await leg(w, 'POST', `${PROXY_PATH}/report`, { ...call(i), proposal_id: null, outcome: 'reported', result });
      }
    }
    http.close();
    for (const xs of [h, d, p, hp, a, g, w, f]) xs.sort((x, y) => x - y);
    const directP50ms = percentile(d, 50);
    const proxyP50ms = percentile(p, 50);
    const hostedP50ms = percentile(hp, 50);
    const gateP50ms = percentile(g, 50);
    const witnessP50ms = percentile(w, 50);
    const relayFloorP50ms = percentile(f, 50);
    const perCall = (cpu: number | null) => (cpu === null ? null : Math.round((cpu * 1e6) / calls));
    return {
      calls,
      directP50ms,
      proxyP50ms,
      proxyP99ms: percentile(p, 99),
      addedP50ms: Math.round((proxyP50ms - directP50ms) * 1000) / 1000,
      hostedP50ms,
      hostedP99ms: percentile(hp, 99),
      hostedAddedP50ms: Math.round((hostedP50ms - directP50ms) * 1000) / 1000,
      httpRoundTripP50ms: percentile(h, 50),
      agentHttpRoundTripP50ms: percentile(a, 50),
      gateP50ms,
      witnessP50ms,
      // The agent's hop to the proxy costs about what the whole direct call does.
      unaccountedP50ms: Math.round((proxyP50ms - 2 * directP50ms - gateP50ms - witnessP50ms) * 1000) / 1000,
      relayFloorP50ms,
      relayFloorAddedP50ms: Math.round((relayFloorP50ms - directP50ms) * 1000) / 1000,
      proxyCpuUs: perCall(proxyCpu),
      serverCpuUs: perCall(serverCpu),
      errors,
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
    };
  } finally {
    for (const c of clients) await c.close();
    for (const stop of stops) stop();
    server.child.kill('SIGTERM');
    await waitForExit(server.child);
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dirname(upstreams), { recursive: true, force: true });
  }
}
