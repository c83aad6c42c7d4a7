import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { NODE_BIN } from '../test/support/server-process.ts';
import { percentile, runLoad } from './execute-bench.ts';
import { mainThreadCpuSeconds } from './process-cpu.ts';

/**
 * What HTTP alone costs on this machine: a bare node:http server in its own process that reads
 * each POST whole and answers it with a canned body of `/execute`'s size, no work, driven by the
 * same load generator at the same concurrency. Its loop's CPU per request is the part of the
 * server's `serverMainUs` that no change above node:http can remove.
 */
export interface TransportFloor {
  concurrency: number;
  requests: number;
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  /** The bare server's event-loop CPU per request. */
  loopUsPerRequest: number | null;
  /** The load generator's own CPU per request (this process, all its threads) in the same run. */
  loadGeneratorUs: number;
  /** The canned answer's body, as long as a real `/execute` answer of the same run. */
  responseBytes: number;
}

/** Plain JavaScript run with `node -e`: the answer's headers are the ones our API sends. */
const SERVER_SOURCE = `
const { createServer } = require('node:http');
const body = Buffer.alloc(Number(process.env.ANSWER_BYTES), 'x');
const headers = { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': body.length };
const server = createServer({ keepAliveTimeout: 72000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => { res.writeHead(200, headers); res.end(body); });
});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\\n'));
process.on('SIGTERM', () => process.exit(0));
`;

function startBare(responseBytes: number): Promise<{ child: ChildProcess; url: URL }> {
  const child = spawn(NODE_BIN, ['-e', SERVER_SOURCE], {
    env: { ...process.env, ANSWER_BYTES: String(responseBytes) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) resolve({ child, url: new URL(`http://127.0.0.1:${m[1]}`) });
    });
    child.once('exit', (code) => reject(new Error(`bare HTTP server exited with ${code}`)));
  });
}

/** The body's length of one answer to POST `body` (to size the canned answer like a real one). */
export function answerBytes(agent: Agent, url: URL, body: string, path = '/execute'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { agent, hostname: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json' } },
      (res) => {
        let n = 0;
        res.on('data', (d: Buffer) => (n += d.length));
        res.on('end', () => resolve(n));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `bodies` POSTed `concurrency` at a time to a bare server answering `responseBytes` each. */
export async function measureTransportFloor(bodies: string[], concurrency: number, responseBytes: number): Promise<TransportFloor> {
  const { child, url } = await startBare(responseBytes);
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  try {
    // The same warm-up as /execute's: connections and JIT.
    await runLoad(agent, url, bodies.slice(0, Math.min(bodies.length, 20 * concurrency)), concurrency);
    const pid = child.pid!;
    const cpu0 = mainThreadCpuSeconds(pid);
    const own0 = process.cpuUsage();
    const { latencies, seconds } = await runLoad(agent, url, bodies, concurrency);
    const own = process.cpuUsage(own0);
    const cpu1 = mainThreadCpuSeconds(pid);
    return {
      concurrency,
      requests: bodies.length,
      requestsPerSecond: Math.round(bodies.length / seconds),
      p50ms: percentile(latencies, 50),
      p99ms: percentile(latencies, 99),
      loopUsPerRequest: cpu0 === null || cpu1 === null ? null : Math.round(((cpu1 - cpu0) * 1e6) / bodies.length),
      loadGeneratorUs: Math.round((own.user + own.system) / bodies.length),
      responseBytes,
    };
  } finally {
    agent.destroy();
    child.kill('SIGTERM');
  }
}
