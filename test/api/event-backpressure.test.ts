import { describe, expect, test } from 'vitest';
import type { Socket } from 'node:net';
import type { AllowListDto } from '../../src/shared/console-dto.ts';
import { SUBSCRIBER_BACKLOG_BYTES } from '../../src/main/api/event-subscriber.ts';
import { get, post, type RunningServer } from '../support/harness.ts';
import { getHead, RawClients, received, serverPerTest, sseEventNames, type RawConnection } from '../support/raw-http.ts';

/** An open stream (its greeting arrived, so it is registered), then left unread. */
async function openedStream(clients: RawClients, url: string, path: string, headers?: Record<string, string>): Promise<RawConnection> {
  const c = await clients.connect(url, getHead(path, headers));
  await received(c, /: openexec events/);
  c.socket.pause();
  return c;
}

describe('event streams are bounded', () => {
  const { start, clients } = serverPerTest();
  let s: RunningServer;

  test('a subscriber that never reads is dropped with a resync event; the server buffers a bounded amount for it', async () => {
    s = await start();
    const serverSockets = new Set<Socket>();
    s.app.http.server.on('connection', (socket: Socket) => serverSockets.add(socket));

    // Connected, then never read: what the server sends piles up in the kernel, then in the server.
    const idle = await clients.connect(s.url, getHead('/events'), false);
    const reader = await clients.connect(s.url, getHead('/events'));
    await received(reader, /: openexec events/);

    // ~60 MB of events: each proposal's event carries its payload twice, its receipt once more.
    const blob = 'x'.repeat(256 * 1024);
    let maxBuffered = 0;
    const proposals = 80;
    for (let i = 0; i < proposals; i++) {
      const r = await post(s.url, '/proposals', { action: 'echo', payload: { blob, i }, nonce: `flood-${i}` });
      expect(r.status).toBe(202);
      await new Promise((r) => setImmediate(r));
      for (const socket of serverSockets) maxBuffered = Math.max(maxBuffered, socket.writableLength);
    }
    // Without a bound the idle socket alone would hold tens of MB here.
    expect(maxBuffered).toBeLessThan(SUBSCRIBER_BACKLOG_BYTES + 2 * 1024 * 1024);

    // Reading now, it gets what was buffered, then the resync event, then the end of the stream.
    idle.read();
    idle.socket.resume();
    await idle.closed;
    const names = sseEventNames(idle.text());
    expect(names.at(-1)).toBe('resync');
    expect(names.filter((n) => n === 'proposal').length).toBeLessThan(proposals);
    expect(idle.text()).toMatch(/"type":"resync","detail":"This subscriber fell more than 1 MiB of events behind/);

    // The subscriber that kept reading saw every event and is still connected.
    await expect.poll(() => sseEventNames(reader.text()).filter((n) => n === 'receipt').length, { timeout: 20_000 }).toBe(proposals);
    expect(sseEventNames(reader.text())).not.toContain('resync');
    expect(reader.socket.destroyed).toBe(false);
  }, 60_000);

  test('past OPENEXEC_MAX_SUBSCRIBERS a new stream is refused with 503; a freed place can be taken again', async () => {
    s = await start({ OPENEXEC_MAX_SUBSCRIBERS: '2' });
    const first = await openedStream(clients, s.url, '/events');
    await openedStream(clients, s.url, '/console/events', { authorization: `Bearer ${s.app.consoleToken}` });

    const agent = await get(s.url, '/events');
    expect(agent.status).toBe(503);
    expect(agent.body).toEqual({ detail: 'Too many event subscribers (limit 2, OPENEXEC_MAX_SUBSCRIBERS); try again later' });
    const operator = await get(s.url, '/console/events', { authorization: `Bearer ${s.app.consoleToken}` });
    expect(operator.status).toBe(503);
    expect(operator.body).toMatchObject({ code: 'unavailable', detail: expect.stringMatching(/OPENEXEC_MAX_SUBSCRIBERS/) });
    // Other routes are not affected.
    expect((await get(s.url, '/health')).status).toBe(200);

    // Once the server has seen the first one go, its place is free again.
    first.socket.destroy();
    await expect
      .poll(async () => {
        const next = await clients.connect(s.url, getHead('/events'));
        await received(next, /^HTTP\/1\.1 \d+/);
        return next.text().slice(0, 15);
      })
      .toBe('HTTP/1.1 200 OK');
  });

  test('an event is serialised once, however many streams are open', async () => {
    s = await start();
    const streams = await Promise.all([0, 1, 2, 3].map(() => openedStream(clients, s.url, '/events')));
    for (const c of streams) c.socket.resume();

    let serialised = 0;
    const allowList = {
      source: 'open',
      actions: [],
      toJSON: () => (serialised++, { source: 'open', actions: [] }),
    } as unknown as AllowListDto;
    s.app.events.emit({ type: 'allow-list', allowList });

    for (const c of streams) await expect.poll(() => sseEventNames(c.text())).toEqual(['allow-list']);
    expect(serialised).toBe(1);
  });
});
