import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../src/main/app/config.ts';
import { get, post, type RunningServer } from '../support/harness.ts';
import { getHead, serverPerTest, sseEventNames, type RawConnection } from '../support/raw-http.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes `text` one byte every `everyMs` until it is all sent or the server closes the connection. */
async function trickle(c: RawConnection, text: string, everyMs: number): Promise<number> {
  let sent = 0;
  while (sent < text.length && !c.socket.destroyed && !c.socket.writableEnded) {
    c.socket.write(text[sent++]!);
    await Promise.race([sleep(everyMs), c.closed]);
  }
  return sent;
}

describe('slow senders and connection counts', () => {
  const { start, clients } = serverPerTest();
  let s: RunningServer;
  const connect = (head?: string) => clients.connect(s.url, head);

  test('a body sent one byte at a time is cut with 408 once OPENEXEC_REQUEST_TIMEOUT has passed', async () => {
    s = await start({ OPENEXEC_REQUEST_TIMEOUT: '1' });
    const body = JSON.stringify({ action: 'echo', payload: { x: 'y'.repeat(40) }, nonce: 'slow-1' });
    const c = await connect(
      `POST /proposals HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    // At 5 bytes a second the body would take ~17 s; the server must not wait for it.
    const sent = await trickle(c, body, 200);
    await c.closed;
    expect(sent).toBeLessThan(body.length);
    expect(c.text()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(JSON.parse(c.text().split('\r\n\r\n')[1]!)).toEqual({
      detail: 'The request did not arrive within 1 s (OPENEXEC_REQUEST_TIMEOUT)',
    });
    // Nothing of it was stored.
    expect(await s.app.proposals.listPending()).toEqual([]);
  });

  test('headers sent one byte at a time (slowloris) and a connection that sends nothing are cut too', async () => {
    s = await start({ OPENEXEC_REQUEST_TIMEOUT: '1' });
    const slow = await connect();
    const silent = await connect();
    const sent = await trickle(slow, getHead('/health', { 'x-padding': 'p'.repeat(60) }), 200);
    expect(sent).toBeLessThan(getHead('/health', { 'x-padding': 'p'.repeat(60) }).length);
    await silent.closed;
    for (const c of [slow, silent]) expect(c.text()).toMatch(/^HTTP\/1\.1 408 /);
  });

  test('with a short request timeout, a long-poll and an event stream outlive it; normal requests work', async () => {
    s = await start({ OPENEXEC_REQUEST_TIMEOUT: '1' });
    const stream = await connect(getHead('/events'));
    const proposed = await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'poll-1' });
    expect(proposed.status).toBe(202);
    const t0 = performance.now();
    const polled = await get(s.url, `/proposals/${proposed.body.id}?wait=2`);
    expect(polled.status).toBe(200);
    expect(polled.body.status).toBe('pending');
    expect(performance.now() - t0).toBeGreaterThan(1900);

    // The stream, open for over two seconds, still delivers.
    await post(s.url, '/proposals', { action: 'echo', payload: {}, nonce: 'poll-2' });
    await expect.poll(() => sseEventNames(stream.text()).filter((n) => n === 'proposal').length).toBe(2);
    expect(stream.socket.destroyed).toBe(false);
  });

  test('connections past OPENEXEC_MAX_CONNECTIONS are closed; those already open carry on', async () => {
    s = await start({ OPENEXEC_MAX_CONNECTIONS: '3', OPENEXEC_MAX_SUBSCRIBERS: '1' });
    const open = [await connect(), await connect(), await connect()];
    for (const c of open) c.socket.write(getHead('/health'));
    for (const c of open) await expect.poll(() => c.text()).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*"status"/);

    const extra = await connect(getHead('/health'));
    await extra.closed;
    expect(extra.text()).toBe('');

    // The three keep-alive connections still answer.
    for (const c of open) {
      const before = c.text().length;
      c.socket.write(getHead('/version'));
      await expect.poll(() => c.text().slice(before)).toMatch(/^HTTP\/1\.1 200 OK/);
    }
    // One goes away: its place is taken again once the server has seen it close.
    open[0]!.socket.destroy();
    await expect
      .poll(async () => {
        const next = await connect(getHead('/health'));
        await Promise.race([next.closed, sleep(500)]);
        return next.text().slice(0, 15);
      })
      .toBe('HTTP/1.1 200 OK');
  });

  test('the settings are checked at start-up, each error naming its variable', () => {
    const problem = (env: Record<string, string>) => {
      try {
        loadConfig({ OPENEXEC_DATA_DIR: '/tmp/unused', ...env });
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      return null;
    };
    expect(problem({ OPENEXEC_REQUEST_TIMEOUT: '0' })).toBe("OPENEXEC_REQUEST_TIMEOUT: must be a whole number from 1 to 300, got '0'");
    expect(problem({ OPENEXEC_MAX_CONNECTIONS: 'lots' })).toMatch(/^OPENEXEC_MAX_CONNECTIONS: must be a whole number/);
    expect(problem({ OPENEXEC_MAX_SUBSCRIBERS: '-1' })).toMatch(/^OPENEXEC_MAX_SUBSCRIBERS: must be a whole number/);
    expect(problem({ OPENEXEC_MAX_CONNECTIONS: '10', OPENEXEC_MAX_SUBSCRIBERS: '10' })).toBe(
      'OPENEXEC_MAX_SUBSCRIBERS: must be below OPENEXEC_MAX_CONNECTIONS (10), or event streams could hold every connection',
    );
    const defaults = loadConfig({ OPENEXEC_DATA_DIR: '/tmp/unused' });
    expect([defaults.requestTimeoutSeconds, defaults.maxConnections, defaults.maxSubscribers]).toEqual([10, 2048, 128]);
  });
});
