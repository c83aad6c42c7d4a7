/**
 * The IPC handlers in front of the REAL console service of a running core (real SQLite, real
 * keys). Only Electron's objects (webContents, frames) are stand-ins: Electron cannot run here.
 * "Never reaches the service" is shown by effects in the core (a proposal still pending, no new
 * receipt, the allow-list unchanged) and by a pass-through Proxy that records which methods ran.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ConsoleApi, ConsoleMethod } from '../../src/shared/console-api';
import { CONSOLE_METHOD_NAMES, IPC_CHANNEL_PREFIX } from '../../src/shared/console-api';
import {
  createConsoleIpcHandlers,
  dispatchConsoleCall,
  senderProblem,
  type FrameLike,
  type InvokeEventLike,
  type TrustedWindow,
} from '../../src/main/ipc/console-ipc-dispatch';
import { isAppUrl } from '../../src/main/ipc/app-url';
import { get, post, startServer, type RunningServer } from '../support/harness';
import { rawDb } from '../support/raw-db.ts';

const APP_URL = 'file:///opt/openexec/resources/app/out/renderer/index.html';

function frame(overrides: Partial<FrameLike> = {}): FrameLike {
  return { url: APP_URL, processId: 4, routingId: 1, parent: null, ...overrides };
}

let s: RunningServer;
beforeAll(async () => {
  // ClawShield mode with no external key: an approval can only come from the operator's console.
  s = await startServer({ OPENEXEC_MODE: 'clawshield' });
});
afterAll(() => s.stop());

/** The running core's own service, wrapped so that every call it receives is recorded. */
function observed(service: ConsoleApi, override: Partial<Record<ConsoleMethod, (input?: unknown) => unknown>> = {}) {
  const reached: [string, unknown[]][] = [];
  const api = new Proxy(service, {
    get(target, prop, receiver) {
      const value: unknown = override[prop as ConsoleMethod] ?? Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        reached.push([String(prop), args]);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { api, reached };
}

function setup(override?: Parameters<typeof observed>[1]) {
  const webContents = { id: 1 };
  const mainFrame = frame();
  const win: TrustedWindow = { webContents, mainFrame, appUrl: APP_URL };
  const { api, reached } = observed(s.app.console, override);
  const handlers = createConsoleIpcHandlers(api, () => win);
  const good: InvokeEventLike = { sender: webContents, senderFrame: mainFrame };
  const call = (method: string, event: InvokeEventLike, arg?: unknown) => {
    const handler = handlers.get(IPC_CHANNEL_PREFIX + method);
    if (!handler) throw new Error(`no handler for ${method}`);
    return handler(event, arg);
  };
  return { api, reached, win, handlers, good, call, webContents, mainFrame };
}

/** An agent's proposal over the loopback API; returns its id. */
async function propose(nonce: string, extra: Record<string, unknown> = {}): Promise<string> {
  const r = await post(s.url, '/proposals', { action: 'echo', payload: { nonce }, nonce, ...extra });
  expect(r.status, r.text).toBe(202);
  return r.body.id as string;
}

/** What the core holds now: the agent's view of a proposal, the receipt count, the allow-list. */
async function coreState(id: string) {
  return {
    status: (await get(s.url, `/proposals/${id}`)).body.status as string,
    receipts: rawDb(s.app.core).prepare('SELECT count(*) FROM receipts').pluck().get() as number,
    executions: rawDb(s.app.core).prepare('SELECT count(*) FROM executions').pluck().get() as number,
    allowList: await s.app.console.getAllowList(),
  };
}

describe('isAppUrl', () => {
  test('accepts the app document, with any fragment or query', () => {
    expect(isAppUrl(APP_URL, APP_URL)).toBe(true);
    expect(isAppUrl(`${APP_URL}#/ledger`, APP_URL)).toBe(true);
    expect(isAppUrl(`${APP_URL}?x=1`, APP_URL)).toBe(true);
  });
  test('refuses other files, remote pages and odd schemes', () => {
    expect(isAppUrl('file:///tmp/evil.html', APP_URL)).toBe(false);
    expect(isAppUrl('file:///opt/openexec/resources/app/out/renderer/other.html', APP_URL)).toBe(false);
    expect(isAppUrl('https://example.com/index.html', APP_URL)).toBe(false);
    expect(isAppUrl('javascript:alert(1)', APP_URL)).toBe(false);
    expect(isAppUrl('about:blank', APP_URL)).toBe(false);
    expect(isAppUrl('not a url', APP_URL)).toBe(false);
  });
  test('accepts a loopback dev server origin only', () => {
    expect(isAppUrl('http://localhost:5173/#x', 'http://localhost:5173/')).toBe(true);
    expect(isAppUrl('http://localhost:5174/', 'http://localhost:5173/')).toBe(false);
    expect(isAppUrl('http://evil.example/', 'http://evil.example/')).toBe(false);
  });
});

describe('senderProblem', () => {
  test('our window main frame showing the app is trusted', () => {
    const { win, good } = setup();
    expect(senderProblem(good, win)).toBeNull();
    // Same frame, different wrapper object: matched by process and routing id.
    expect(senderProblem({ sender: win.webContents, senderFrame: frame() }, win)).toBeNull();
  });
  test('refuses other windows, subframes, gone frames and foreign pages', () => {
    const { win, mainFrame } = setup();
    expect(senderProblem({ sender: { id: 2 }, senderFrame: mainFrame }, win)).toMatch(/console window/);
    expect(senderProblem({ sender: win.webContents, senderFrame: frame({ parent: mainFrame, routingId: 9 }) }, win)).toMatch(/main frame/);
    expect(senderProblem({ sender: win.webContents, senderFrame: null }, win)).toMatch(/gone/);
    expect(senderProblem({ sender: win.webContents, senderFrame: frame({ url: 'https://evil.example/' }) }, win)).toMatch(
      /not showing the console/,
    );
    expect(senderProblem({ sender: win.webContents, senderFrame: mainFrame }, null)).toMatch(/no console window/);
  });
});

describe('console IPC handlers, in front of the real service', () => {
  test('there is exactly one handler per contract method', () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(CONSOLE_METHOD_NAMES.map((m) => IPC_CHANNEL_PREFIX + m).sort());
  });

  test('a wrong sender is refused with forbidden before anything runs', async () => {
    const { reached, call, mainFrame, webContents } = setup();
    const id = await propose('ipc-wrong-sender');
    const before = await coreState(id);
    // Arguments that are all valid: only the sender is wrong.
    const args: Record<ConsoleMethod, unknown> = {
      health: {},
      listPending: {},
      getProposal: { id },
      approve: { id },
      deny: { id, reason: 'from another window' },
      extend: { id, seconds: 300 },
      listApprovals: {},
      getAllowList: {},
      setAllowed: { action: 'add', allowed: false },
      searchReceipts: {},
      countReceipts: { text: 'from another window' },
      getReceipt: { seq: 1 },
      verifyReceipt: { seq: 1 },
      verifyChain: {},
      verifyChainRange: { fromSeq: 1, limit: 10 },
      receiptPublicKey: {},
      issueCheckpoint: {},
      exportBundle: {},
      inclusionProof: { seq: 1 },
      previewSimilar: { id, vary: [], uses: 2 },
      approveSimilar: { id, vary: [], uses: 2 },
      listGrants: {},
      revokeGrant: { id, reason: 'from another window' },
      hardeningReport: {},
      backup: { path: '/nonexistent/backup.db' },
      purge: { olderThan: '90d' },
      addAgent: { name: 'from-another-window' },
      listAgents: {},
      revokeAgent: { name: 'nobody' },
      listOperators: {},
      listToolPins: {},
      acceptToolDefinition: { action: 'mcp:nobody/nothing' },
      closeOrphans: { reservedBy: '0123456789abcdef' },
    };
    for (const method of CONSOLE_METHOD_NAMES) {
      const result = await call(method, { sender: { id: 99 }, senderFrame: mainFrame }, args[method]);
      expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    const subframe = await call('approve', { sender: webContents, senderFrame: frame({ parent: {}, routingId: 3 }) }, { id });
    expect(subframe).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(reached).toEqual([]);
    expect(await coreState(id)).toEqual(before);
    expect(before.status).toBe('pending');
  });

  test('invalid arguments are refused with invalid_input and never reach the service', async () => {
    const { reached, call, good } = setup();
    const id = await propose('ipc-bad-args');
    const before = await coreState(id);
    const cases: [string, unknown][] = [
      ['getReceipt', { seq: 0 }],
      ['getReceipt', { seq: '1' }],
      ['getReceipt', { seq: 1.5 }],
      ['getReceipt', undefined],
      ['approve', {}],
      ['approve', { id: '' }],
      ['approve', { id, extra: true }],
      ['deny', { id, reason: '   ' }],
      ['deny', { id }],
      ['deny', { id, reason: 'x'.repeat(2001) }],
      ['setAllowed', { action: 'add', allowed: 'yes' }],
      ['setAllowed', { action: 'add', allowed: false, also: 'echo' }],
      ['searchReceipts', { events: ['nope'] }],
      ['searchReceipts', { approverKeyId: 'XYZ' }],
      ['searchReceipts', { limit: 10_000 }],
      // The count has no page: a page bound is refused, not ignored.
      ['countReceipts', { limit: 1 }],
      ['countReceipts', { beforeSeq: 5 }],
      ['countReceipts', { count: true }],
      ['countReceipts', { events: ['nope'] }],
      ['health', { anything: 1 }],
      ['health', 'string'],
      ['listApprovals', { limit: 0 }],
      ['listToolPins', { action: 'mcp:a/b' }],
      ['listOperators', { name: 'bob' }],
      ['acceptToolDefinition', { action: 'mcp:a/b', hash: 'not-a-sha256' }],
    ];
    for (const [method, arg] of cases) {
      const result = await call(method, good, arg);
      expect(result, `${method} ${JSON.stringify(arg)}`).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
      if (!result.ok) expect(result.error.message).not.toBe('');
    }
    expect(reached).toEqual([]);
    // The effects that approve, deny and setAllowed would have had did not happen.
    expect(await coreState(id)).toEqual(before);
    expect(before.status).toBe('pending');
    expect(before.allowList).toMatchObject({ ok: true, value: { restriction: 'open' } });
  });

  test('valid arguments reach the service (parsed) and its result comes back unchanged', async () => {
    const { reached, call, good } = setup();
    await expect(call('getReceipt', good, { seq: 1 })).resolves.toEqual(await s.app.console.getReceipt({ seq: 1 }));
    expect(reached).toContainEqual(['getReceipt', [{ seq: 1 }]]);
    await expect(call('health', good, undefined)).resolves.toMatchObject({ ok: true, value: { mode: 'clawshield' } });
    expect(reached).toContainEqual(['health', [{}]]);

    const denyId = await propose('ipc-deny');
    const denied = await call('deny', good, { id: denyId, reason: '  not today  ' });
    expect(reached).toContainEqual(['deny', [{ id: denyId, reason: 'not today' }]]);
    expect(denied).toMatchObject({ ok: true, value: { id: denyId, status: 'denied', reason: 'not today' } });
    expect((await get(s.url, `/proposals/${denyId}`)).body).toMatchObject({ status: 'denied', reason: 'not today' });

    const query = { text: 'echo', events: ['executed'], from: '2026-01-01T00:00:00Z', limit: 50 };
    const found = await call('searchReceipts', good, query);
    expect(reached).toContainEqual(['searchReceipts', [query]]);
    expect(found).toEqual(await s.app.console.searchReceipts(query as never));

    const approveId = await propose('ipc-approve');
    const approved = await call('approve', good, { id: approveId });
    expect(approved).toMatchObject({
      ok: true,
      value: { id: approveId, status: 'executed', resultCanonical: '{"echo":{"nonce":"ipc-approve"}}' },
    });
    expect((await get(s.url, `/proposals/${approveId}`)).body.status).toBe('executed');

    // A refusal by the service comes back as its own error value.
    const late = await propose('ipc-expired', { ttl_seconds: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const expired = await call('approve', good, { id: late });
    expect(expired).toEqual({ ok: false, error: { code: 'expired', message: expect.any(String) } });
    await expect(call('approve', good, { id: denyId })).resolves.toEqual({
      ok: false,
      error: { code: 'conflict', message: expect.any(String) },
    });
  });

  test('a service that breaks the contract (throws, or returns no result) becomes an internal error value', async () => {
    // The real service never throws (it turns failures into values); this is the dispatcher's
    // defence should an implementation ever do so. Only `health` is replaced.
    let broken: 'throw' | 'nothing' = 'throw';
    const { call, good } = setup({
      health: async () => {
        if (broken === 'throw') throw new Error('database is locked');
        return undefined;
      },
    });
    await expect(call('health', good)).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'health failed: database is locked' },
    });
    broken = 'nothing';
    await expect(call('health', good)).resolves.toMatchObject({ ok: false, error: { code: 'internal' } });
    await expect(call('listPending', good)).resolves.toMatchObject({ ok: true });
  });

  test('dispatchConsoleCall refuses a method that is not in the contract', async () => {
    const { api, reached } = setup();
    await expect(dispatchConsoleCall(api, 'shutdown' as never, {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    });
    expect(reached).toEqual([]);
  });
});
