import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HandlerInputError } from '../../../src/main/core/actions/action-registry.ts';
import { tempDir } from '../../support/harness.ts';
import { declare, payload, stringSchema } from '../../support/declared.ts';

interface Hit {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A real local service; every request it receives is recorded. */
async function service(
  handle: (req: IncomingMessage, body: string, res: import('node:http').ServerResponse) => void,
): Promise<{ server: Server; port: number; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      hits.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      handle(req, body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, hits };
}

let main: Awaited<ReturnType<typeof service>>;
let other: Awaited<ReturnType<typeof service>>;
const base = { description: 'test', risk: 'low', kind: 'http' };
const call = (action: ReturnType<typeof declare>, p: unknown) =>
  Promise.resolve(action.run(payload(p))) as Promise<Record<string, unknown>>;

beforeAll(async () => {
  other = await service((_req, _body, res) => res.end('other host'));
  main = await service((req, body, res) => {
    const url = req.url!;
    if (url.startsWith('/same')) return res.writeHead(302, { location: '/jobs/after-redirect' }).end();
    if (url.startsWith('/other')) return res.writeHead(302, { location: `http://127.0.0.1:${other.port}/stolen` }).end();
    if (url.startsWith('/slow')) return setTimeout(() => res.end('late'), 5000).unref();
    if (url.startsWith('/huge')) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('y'.repeat(4 * 1024 * 1024));
    }
    res.writeHead(201, { 'content-type': 'application/json', 'set-cookie': 'session=abc', etag: '"v1"' });
    res.end(JSON.stringify({ method: req.method, url, auth: req.headers['authorization'] ?? null, body }));
  });
});

afterAll(() => {
  main.server.closeAllConnections();
  main.server.close();
  other.server.close();
});

describe('http: allowed hosts only, secrets by reference', () => {
  test('a GET to the allowed host; fields are URL-encoded; only the documented headers come back', async () => {
    const job = declare('job', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/jobs/{id}`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      payload_schema: stringSchema('id'),
    });
    const r = await call(job, { id: 'a b/c?d' });
    expect(r['status']).toBe(201n);
    expect(r['headers']).toEqual({ 'content-type': 'application/json', etag: '"v1"' });
    expect(JSON.parse(String(r['body']))).toMatchObject({ method: 'GET', url: '/jobs/a%20b%2Fc%3Fd' });
    expect(r['truncated']).toBe(false);
    expect(job.preview!(payload({ id: '7' }))).toEqual([`GET http://127.0.0.1:${main.port}/jobs/7`]);
  });

  test('a host smuggled through a template field never leaves the allowed host', async () => {
    const before = other.hits.length;
    const job = declare('job', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/jobs/{id}`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      payload_schema: stringSchema('id'),
    });
    const r = await call(job, { id: `x@127.0.0.1:${other.port}/stolen` });
    expect(JSON.parse(String(r['body'])).url).toBe(`/jobs/x%40127.0.0.1%3A${other.port}%2Fstolen`);
    const byPort = declare('p', {
      ...base,
      method: 'GET',
      url: 'http://127.0.0.1:{port}/stolen',
      allowed_hosts: [`127.0.0.1:${main.port}`],
      payload_schema: stringSchema('port'),
    });
    await expect(call(byPort, { port: String(other.port) })).rejects.toThrow(HandlerInputError);
    await expect(call(byPort, { port: String(other.port) })).rejects.toThrow(`host 127.0.0.1:${other.port} is not in allowed_hosts`);
    expect(other.hits.length).toBe(before);
  });

  test('a field cannot climb out of its place in the path with a dot segment', async () => {
    // encodeURIComponent leaves '.' alone, and the URL parser removes `.` and `..` segments (also
    // written %2e): `/jobs/{id}/status` with id '..' would be a GET of /status.
    const before = main.hits.length;
    const status = declare('status', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/jobs/{id}/status`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      payload_schema: stringSchema('id'),
    });
    for (const id of ['..', '.']) {
      await expect(call(status, { id })).rejects.toThrow(HandlerInputError);
      await expect(call(status, { id })).rejects.toThrow('url: a field makes a dot segment');
      // The operator's preview says the same (actionPreview shows it as `cannot be rendered: …`).
      expect(() => status.preview!(payload({ id }))).toThrow('url: a field makes a dot segment (. or ..) of the path');
    }
    const joined = declare('joined', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/jobs/{a}{b}/status`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      payload_schema: stringSchema('a', 'b'),
    });
    await expect(call(joined, { a: '.', b: '.' })).rejects.toThrow('url: a field makes a dot segment');
    expect(main.hits.length).toBe(before);
    // Dots inside a segment are ordinary characters; in the query they are data.
    const r = await call(status, { id: '..v1.2..' });
    expect(JSON.parse(String(r['body'])).url).toBe('/jobs/..v1.2../status');
    const query = declare('query', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/jobs?after={id}`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      payload_schema: stringSchema('id'),
    });
    expect(JSON.parse(String((await call(query, { id: '..' }))['body'])).url).toBe('/jobs?after=..');
  });

  test('a redirect to the same host is followed; to another host it is not', async () => {
    const allowed = [`127.0.0.1:${main.port}`, `127.0.0.1:${other.port}`];
    const same = declare('s', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/same`,
      allowed_hosts: allowed,
      payload_schema: { type: 'object' },
    });
    expect(JSON.parse(String((await call(same, {}))['body'])).url).toBe('/jobs/after-redirect');
    const before = other.hits.length;
    const away = declare('o', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/other`,
      allowed_hosts: allowed,
      payload_schema: { type: 'object' },
    });
    await expect(call(away, {})).rejects.toThrow(`redirect to another host (127.0.0.1:${other.port}) not followed`);
    expect(other.hits.length).toBe(before);
  });

  test('a slow response times out; a huge one is cut at the cap', async () => {
    const slow = declare('slow', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/slow`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      timeout_ms: 300,
      payload_schema: { type: 'object' },
    });
    await expect(call(slow, {})).rejects.toThrow('timed out after 300 ms');
    const huge = declare('huge', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/huge`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      max_response_bytes: 10_000,
      payload_schema: { type: 'object' },
    });
    const r = await call(huge, {});
    expect(r['truncated']).toBe(true);
    expect(String(r['body'])).toBe('y'.repeat(10_000));
  });

  test('a JSON body from fields, and header secrets from the environment or a file', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'token'), 'file-secret\n');
    const schema = { type: 'object', properties: { title: { type: 'string' }, n: { type: 'integer' } }, required: ['title', 'n'] };
    const post = (headers: unknown) =>
      declare(
        'post',
        {
          ...base,
          method: 'POST',
          url: `http://127.0.0.1:${main.port}/jobs`,
          allowed_hosts: [`127.0.0.1:${main.port}`],
          headers,
          body: { title: 'Job: {title}', count: '{n}', fixed: [1, true] },
          payload_schema: schema,
        },
        { API_TOKEN: 'env-secret' },
        dataDir,
      );
    const fromEnv = await call(post({ Authorization: { env: 'API_TOKEN' } }), '{"title": "x", "n": 12345678901234567890}');
    const seen = JSON.parse(String(fromEnv['body']));
    expect(seen.auth).toBe('env-secret');
    expect(seen.body).toBe('{"count":12345678901234567890,"fixed":[1,true],"title":"Job: x"}');
    expect(JSON.stringify(fromEnv['headers'])).not.toContain('secret');
    const fromFile = await call(post({ Authorization: { file: 'token' } }), { title: 'x', n: 1 });
    expect(JSON.parse(String(fromFile['body'])).auth).toBe('file-secret');
    const traced = declare('t', {
      ...base,
      method: 'GET',
      url: `http://127.0.0.1:${main.port}/jobs`,
      allowed_hosts: [`127.0.0.1:${main.port}`],
      headers: { 'X-Trace': '{t}' },
      payload_schema: stringSchema('t'),
    });
    const hits = main.hits.length;
    await expect(call(traced, { t: 'a\r\nX-Admin: yes' })).rejects.toThrow('headers.X-Trace: a value with a line break or NUL is refused');
    expect(main.hits.length).toBe(hits);
    expect(() => post({ Authorization: { env: 'MISSING_VAR' } })).toThrow(
      /headers\.Authorization: environment variable MISSING_VAR is not set/,
    );
  });
});
