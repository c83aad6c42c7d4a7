import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { post, startServer, type RunningServer, agentToken } from '../support/harness.ts';
import { takeSseFrames } from '../support/sse.ts';

/** Reads SSE frames from a real stream until `done` says enough. */
async function collect(
  url: string,
  headers: Record<string, string>,
  done: (events: { event: string; data: any }[]) => boolean,
  start: () => Promise<void>,
) {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const events: { event: string; data: any }[] = [];
  let buffer = '';
  await start();
  while (!done(events)) {
    const { value, done: ended } = await reader.read();
    if (ended) break;
    const taken = takeSseFrames<any>(buffer + new TextDecoder().decode(value));
    buffer = taken.rest;
    events.push(...taken.frames);
  }
  controller.abort();
  return events;
}

describe('Server-Sent Events', () => {
  let s: RunningServer;
  beforeAll(async () => {
    s = await startServer();
  });
  afterAll(() => s.stop());

  test('agents see proposal and receipt changes as they commit', async () => {
    const events = await collect(
      `${s.url}/events`,
      {},
      (e) => e.some((x) => x.event === 'receipt'),
      async () => {
        await post(s.url, '/proposals', { action: 'echo', payload: { hi: 1 }, nonce: 'sse-1' });
      },
    );
    expect(events.find((e) => e.event === 'proposal')?.data.proposal).toMatchObject({ status: 'pending', action: 'echo' });
    expect(events.find((e) => e.event === 'receipt')?.data.receipt).toMatchObject({ event: 'proposed', action: 'echo' });
  });

  test('the console stream needs the token', async () => {
    const r = await fetch(`${s.url}/console/events`);
    expect(r.status).toBe(401);
    const events = await collect(
      `${s.url}/console/events`,
      { authorization: `Bearer ${s.app.consoleToken}` },
      (e) => e.length >= 2,
      async () => {
        await post(s.url, '/execute', { action: 'echo', payload: {}, nonce: 'sse-2' });
        await post(s.url, '/execute', { action: 'echo', payload: {}, nonce: 'sse-2' });
      },
    );
    expect(events.map((e) => e.data.receipt.event)).toEqual(['executed', 'replayed']);
  });

  test('a server with open streams still stops promptly', async () => {
    const other = await startServer();
    const res = await fetch(`${other.url}/events`);
    expect(res.status).toBe(200);
    const t0 = performance.now();
    await other.stop();
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('GET /events with agent tokens', () => {
  let s: RunningServer;
  const tokens: Record<string, string> = {};
  beforeAll(async () => {
    s = await startServer({ OPENEXEC_REQUIRE_AGENT_TOKEN: '1' });
    for (const name of ['alpha', 'beta']) tokens[name] = await agentToken(s, name);
  });
  afterAll(() => s.stop());
  const bearer = (name: string) => ({ authorization: `Bearer ${tokens[name]!}` });

  test("an agent's stream carries its own proposals and receipts, never another agent's", async () => {
    const seen = (name: string) =>
      collect(
        `${s.url}/events`,
        bearer(name),
        (e) => e.some((x) => x.event === 'receipt' && x.data.receipt.body.includes('sse-beta-2')),
        async () => {
          await post(s.url, '/proposals', { action: 'echo', payload: { secret: 'alpha-only' }, nonce: 'sse-alpha-1' }, bearer('alpha'));
          await post(s.url, '/proposals', { action: 'echo', payload: { mine: 'beta' }, nonce: 'sse-beta-2' }, bearer('beta'));
        },
      );
    const [asBeta] = await Promise.all([seen('beta')]);
    expect(JSON.stringify(asBeta)).not.toContain('alpha');
    expect(asBeta.filter((e) => e.event === 'proposal').map((e) => e.data.proposal.nonce)).toEqual(['sse-beta-2']);
  });

  test("the operator's console stream carries every agent's proposals and receipts", async () => {
    const events = await collect(
      `${s.url}/console/events`,
      { authorization: `Bearer ${s.app.consoleToken}` },
      (e) => e.filter((x) => x.event === 'proposal').length >= 2 && e.filter((x) => x.event === 'receipt').length >= 2,
      async () => {
        await post(s.url, '/proposals', { action: 'echo', payload: { n: 1 }, nonce: 'sse-op-alpha' }, bearer('alpha'));
        await post(s.url, '/proposals', { action: 'echo', payload: { n: 2 }, nonce: 'sse-op-beta' }, bearer('beta'));
      },
    );
    const proposals = events.filter((e) => e.event === 'proposal').map((e) => [e.data.proposal.agent, e.data.proposal.nonce]);
    expect(proposals).toEqual([
      ['alpha', 'sse-op-alpha'],
      ['beta', 'sse-op-beta'],
    ]);
    expect(events.filter((e) => e.event === 'receipt').map((e) => e.data.receipt.agent)).toEqual(['alpha', 'beta']);
  });

  test('the stream follows OPENEXEC_REQUIRE_AGENT_TOKEN and refuses a bad token, like every agent route', async () => {
    expect((await fetch(`${s.url}/events`)).status).toBe(401);
    expect((await fetch(`${s.url}/events`, { headers: { authorization: 'Bearer oxa_nope' } })).status).toBe(401);
  });
});
