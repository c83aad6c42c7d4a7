import { describe, expect, test, vi, type Mock } from 'vitest';
import type { ConsoleApi, ConsoleMethod } from '../../src/shared/console-api';
import { CONSOLE_METHOD_NAMES, IPC_CHANNEL_PREFIX } from '../../src/shared/console-api';
import {
  createConsoleIpcHandlers,
  dispatchConsoleCall,
  isAppUrl,
  senderProblem,
  type FrameLike,
  type InvokeEventLike,
  type TrustedWindow,
} from '../../src/main/ipc/console-ipc-dispatch';

const APP_URL = 'file:///opt/openexec/resources/app/out/renderer/index.html';

function frame(overrides: Partial<FrameLike> = {}): FrameLike {
  return { url: APP_URL, processId: 4, routingId: 1, parent: null, ...overrides };
}

function setup() {
  const webContents = { id: 1 };
  const mainFrame = frame();
  const win: TrustedWindow = { webContents, mainFrame, appUrl: APP_URL };
  const mocks = Object.fromEntries(
    CONSOLE_METHOD_NAMES.map((name) => [
      name,
      vi.fn(async (input?: unknown): Promise<unknown> => ({ ok: true, value: { name, input } })),
    ]),
  ) as Record<ConsoleMethod, Mock<(input?: unknown) => Promise<unknown>>>;
  const api = mocks as unknown as ConsoleApi;
  const handlers = createConsoleIpcHandlers(api, () => win);
  const good: InvokeEventLike = { sender: webContents, senderFrame: mainFrame };
  const call = (method: string, event: InvokeEventLike, arg?: unknown) => {
    const handler = handlers.get(IPC_CHANNEL_PREFIX + method);
    if (!handler) throw new Error(`no handler for ${method}`);
    return handler(event, arg);
  };
  return { api: mocks, service: api, win, handlers, good, call, webContents, mainFrame };
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
    expect(senderProblem({ sender: win.webContents, senderFrame: frame({ parent: mainFrame, routingId: 9 }) }, win)).toMatch(
      /main frame/,
    );
    expect(senderProblem({ sender: win.webContents, senderFrame: null }, win)).toMatch(/gone/);
    expect(senderProblem({ sender: win.webContents, senderFrame: frame({ url: 'https://evil.example/' }) }, win)).toMatch(
      /not showing the console/,
    );
    expect(senderProblem({ sender: win.webContents, senderFrame: mainFrame }, null)).toMatch(/no console window/);
  });
});

describe('console IPC handlers', () => {
  test('there is exactly one handler per contract method', () => {
    const { handlers } = setup();
    expect([...handlers.keys()].sort()).toEqual(CONSOLE_METHOD_NAMES.map((m) => IPC_CHANNEL_PREFIX + m).sort());
  });

  test('a wrong sender is refused with forbidden before anything runs', async () => {
    const { api, call, mainFrame } = setup();
    for (const method of CONSOLE_METHOD_NAMES) {
      const result = await call(method, { sender: { id: 99 }, senderFrame: mainFrame }, {});
      expect(result).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    }
    const subframe = await call('approve', { sender: setup().webContents, senderFrame: frame({ parent: {}, routingId: 3 }) }, { id: 'p1' });
    expect(subframe).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    for (const method of CONSOLE_METHOD_NAMES) expect(api[method]).not.toHaveBeenCalled();
  });

  test('invalid arguments are refused with invalid_input and never reach the service', async () => {
    const { api, call, good } = setup();
    const cases: [string, unknown][] = [
      ['getReceipt', { seq: 0 }],
      ['getReceipt', { seq: '1' }],
      ['getReceipt', { seq: 1.5 }],
      ['getReceipt', undefined],
      ['approve', {}],
      ['approve', { id: '' }],
      ['approve', { id: 'p1', extra: true }],
      ['deny', { id: 'p1', reason: '   ' }],
      ['deny', { id: 'p1' }],
      ['setAllowed', { action: 'echo', allowed: 'yes' }],
      ['searchReceipts', { events: ['nope'] }],
      ['searchReceipts', { approverKeyId: 'XYZ' }],
      ['searchReceipts', { limit: 10_000 }],
      ['health', { anything: 1 }],
      ['health', 'string'],
      ['listApprovals', { limit: 0 }],
    ];
    for (const [method, arg] of cases) {
      const result = await call(method, good, arg);
      expect(result, `${method} ${JSON.stringify(arg)}`).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
      if (!result.ok) expect(result.error.message).not.toBe('');
    }
    for (const method of CONSOLE_METHOD_NAMES) expect(api[method]).not.toHaveBeenCalled();
  });

  test('valid arguments reach the service (parsed) and its result comes back unchanged', async () => {
    const { api, call, good } = setup();
    await expect(call('getReceipt', good, { seq: 3 })).resolves.toEqual({
      ok: true,
      value: { name: 'getReceipt', input: { seq: 3 } },
    });
    await expect(call('health', good, undefined)).resolves.toMatchObject({ ok: true });
    expect(api.health).toHaveBeenCalledWith({});
    await call('deny', good, { id: 'p1', reason: '  not today  ' });
    expect(api.deny).toHaveBeenCalledWith({ id: 'p1', reason: 'not today' });
    await call('searchReceipts', good, { text: 'echo', events: ['executed'], from: '2026-01-01T00:00:00Z', limit: 50 });
    expect(api.searchReceipts).toHaveBeenCalledWith({ text: 'echo', events: ['executed'], from: '2026-01-01T00:00:00Z', limit: 50 });
    api.approve.mockResolvedValueOnce({ ok: false, error: { code: 'expired', message: 'Proposal expired' } });
    await expect(call('approve', good, { id: 'p1' })).resolves.toEqual({
      ok: false,
      error: { code: 'expired', message: 'Proposal expired' },
    });
  });

  test('a throwing or broken service becomes an internal error value', async () => {
    const { api, call, good } = setup();
    api.health.mockRejectedValueOnce(new Error('database is locked'));
    await expect(call('health', good)).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'health failed: database is locked' },
    });
    api.health.mockResolvedValueOnce(undefined);
    await expect(call('health', good)).resolves.toMatchObject({ ok: false, error: { code: 'internal' } });
  });

  test('dispatchConsoleCall refuses a method that is not in the contract', async () => {
    const { service } = setup();
    await expect(dispatchConsoleCall(service, 'shutdown' as never, {})).resolves.toMatchObject({
      ok: false,
      error: { code: 'invalid_input' },
    });
  });
});
