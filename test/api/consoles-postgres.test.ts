/**
 * Several consoles, one ledger (issue 13), through the real servers: two OpenExec instances (two
 * data directories, two ports, two receipt keys) on one PostgreSQL database of a throwaway
 * cluster. A proposal an agent makes at one reaches the other's console stream as it commits,
 * the other's operator approves it there, and the agent waiting at the first gets the result;
 * a denial at one wakes a long-poll at the other; both ledgers are one chain.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { consoleCall } from '../support/console-http.ts';
import { get, post, startServer, type RunningServer } from '../support/harness.ts';
import { postgresAvailability } from '../support/postgres.ts';
import { usePostgres } from '../support/postgres-suite.ts';
import { takeSseFrames } from '../support/sse.ts';

interface Frame {
  event: string;
  data: { proposal?: { id: string; status: string }; receipt?: { event: string; proposalId: string | null } };
}

/** A console event stream, read as frames arrive, until `until` holds or the stream ends. */
async function consoleStream(s: RunningServer) {
  const controller = new AbortController();
  const res = await fetch(`${s.url}/console/events`, {
    headers: { authorization: `Bearer ${s.app.consoleToken}` },
    signal: controller.signal,
  });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const frames: Frame[] = [];
  let buffer = '';
  return {
    frames,
    async until(holds: (frames: Frame[]) => boolean): Promise<Frame[]> {
      while (!holds(frames)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended after ${JSON.stringify(frames)}`);
        const taken = takeSseFrames<Frame['data']>(buffer + new TextDecoder().decode(value));
        buffer = taken.rest;
        frames.push(...taken.frames);
      }
      return frames;
    },
    close: () => controller.abort(),
  };
}

describe.skipIf(!postgresAvailability().ok)('two consoles, one PostgreSQL ledger (real servers, real cluster)', () => {
  const pg = usePostgres('consoles');
  const running: RunningServer[] = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await s.stop();
  });

  async function two() {
    const db = await pg.fresh();
    const env = { OPENEXEC_DB_URL: db.appUrl, OPENEXEC_ALLOWED_ACTIONS: 'echo' };
    const a = await startServer(env);
    running.push(a);
    const b = await startServer(env);
    running.push(b);
    return { a, b };
  }

  test("an agent's proposal at one is seen live at the other, approved there, and the agent waiting at the first gets the result", async () => {
    const { a, b } = await two();
    const streamB = await consoleStream(b);
    try {
      const made = await post(a.url, '/proposals', { action: 'echo', payload: { to: 'team@example.com' }, nonce: 'live-1' });
      expect(made.status).toBe(202);
      const id = (made.body as { id: string }).id;
      // B's console hears it as it commits at A, and lists it as pending.
      await streamB.until((f) => f.some((x) => x.event === 'proposal' && x.data.proposal?.id === id));
      const pendingAtB = await consoleCall(b.url, b.app.consoleToken, 'listPending');
      expect((pendingAtB.body as { id: string; status: string }[]).map((p) => [p.id, p.status])).toContainEqual([id, 'pending']);

      const waiting = get(a.url, `/proposals/${id}?wait=30`);
      const approved = await consoleCall(b.url, b.app.consoleToken, 'approve', { id });
      expect(approved.status).toBe(200);
      expect(approved.body).toMatchObject({ id, status: 'executed' });
      const answer = await waiting;
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({ status: 'executed', result: { echo: { to: 'team@example.com' } } });

      // A second decision at A is refused: the proposal is decided, whoever decided it.
      const again = await consoleCall(a.url, a.app.consoleToken, 'deny', { id, reason: 'too late' });
      expect(again.status).toBe(409);
      // One chain: both servers walk the same receipts, each signed by a registered key.
      for (const s of [a, b]) {
        const chain = await consoleCall(s.url, s.app.consoleToken, 'verifyChain');
        expect(chain.body).toMatchObject({ valid: true });
      }
      const headA = (await consoleCall(a.url, a.app.consoleToken, 'verifyChain')).body as { checked: number };
      const headB = (await consoleCall(b.url, b.app.consoleToken, 'verifyChain')).body as { checked: number };
      expect(headA.checked).toBe(headB.checked);
    } finally {
      streamB.close();
    }
  });

  test("a denial at one wakes the agent's long-poll at the other, with the operator's reason", async () => {
    const { a, b } = await two();
    const made = await post(b.url, '/proposals', { action: 'echo', payload: { amount: 5 }, nonce: 'live-2' });
    const id = (made.body as { id: string }).id;
    const waiting = get(b.url, `/proposals/${id}?wait=30`);
    const streamA = await consoleStream(a);
    try {
      const denied = await consoleCall(a.url, a.app.consoleToken, 'deny', { id, reason: 'not this week' });
      expect(denied.status).toBe(200);
      const answer = await waiting;
      expect(answer.body).toMatchObject({ status: 'denied', reason: 'not this week' });
      // A's console saw its own decision once, as denied.
      const frames = await streamA.until((f) => f.some((x) => x.data.proposal?.id === id && x.data.proposal.status === 'denied'));
      expect(frames.filter((x) => x.event === 'proposal' && x.data.proposal?.id === id).map((x) => x.data.proposal!.status)).toEqual([
        'denied',
      ]);
    } finally {
      streamA.close();
    }
  });
});
