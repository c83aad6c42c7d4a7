/**
 * A stand-in for the running OpenExec's proxy routes that decides and records nothing: it pins
 * whatever it is sent, answers every gate `direct` and every witness with the next number, at
 * once, over kept-alive node:http. Run in its own process by the `mcp` bench, which puts an
 * `openexec mcp proxy` in front of it to measure what the proxy's hops cost on this machine
 * alone (process wake-ups, pipes, loopback HTTP, the SDK and the proxy's own work): the floor
 * the proxy's figure is compared with. Never a boundary: it checks no token and keeps nothing.
 */
import { createServer } from 'node:http';

let receiptSeq = 0;

function answer(path: string | undefined, body: string): unknown {
  if (path === '/mcp-proxy/tools') {
    const { server, tools } = JSON.parse(body) as { server: string; tools: { name: string }[] };
    return {
      tools: tools.map((t) => ({ name: t.name, action: `mcp:${server}/${t.name}`, definition_hash: '0'.repeat(64), status: 'pinned' })),
    };
  }
  if (path === '/mcp-proxy/call') return { decision: 'direct' };
  if (path === '/mcp-proxy/report') return { receipt_seq: ++receiptSeq };
  return null;
}

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const value = answer(req.url, Buffer.concat(chunks).toString('utf8'));
    const text = JSON.stringify(value ?? { detail: `no route ${req.url}` });
    res.writeHead(value === null ? 404 : 200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  process.stdout.write(`instant boundary listening on http://127.0.0.1:${address.port}\n`);
});
