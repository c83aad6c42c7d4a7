import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { describe, expect, test, vi } from 'vitest';
import {
  BRIDGE_GLOBAL,
  BRIDGE_EXTRAS,
  CONSOLE_METHOD_NAMES,
  IPC_CHANNEL_PREFIX,
  IPC_CONNECTION_CHANNEL,
  IPC_EVENT_CHANNEL,
  IPC_NOTIFY_CHANNEL,
} from '../../src/shared/console-api';
import type { ConsoleEvent } from '../../src/shared/console-dto';
import { BRIDGE_METHOD_NAMES, createBridge, type BridgeSubscribe } from '../../src/preload/bridge';
import {
  BRIDGE_GLOBAL_NAME,
  IPC_CHANNEL_PREFIX_NAME,
  IPC_CONNECTION_CHANNEL_NAME,
  IPC_EVENT_CHANNEL_NAME,
  IPC_NOTIFY_CHANNEL_NAME,
} from '../../src/shared/console-bridge-names';

const CONTRACT = [...CONSOLE_METHOD_NAMES, ...BRIDGE_EXTRAS].sort();

function fakeIpc() {
  const invoke = vi.fn(async (channel: string, arg: unknown) => ({ ok: true, value: { channel, arg } }));
  const handlers = new Map<string, Set<(payload: unknown) => void>>();
  const subscribe: BridgeSubscribe = (channel, handler) => {
    const set = handlers.get(channel) ?? new Set();
    set.add(handler);
    handlers.set(channel, set);
    return () => set.delete(handler);
  };
  const emit = (channel: string, payload: unknown) => handlers.get(channel)?.forEach((h) => h(payload));
  return { invoke, subscribe, emit, handlers };
}

describe('preload bridge (Electron-free builder)', () => {
  test('the zod-free name copies equal the contract constants', () => {
    expect([
      BRIDGE_GLOBAL_NAME,
      IPC_CHANNEL_PREFIX_NAME,
      IPC_EVENT_CHANNEL_NAME,
      IPC_CONNECTION_CHANNEL_NAME,
      IPC_NOTIFY_CHANNEL_NAME,
    ]).toEqual([BRIDGE_GLOBAL, IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL, IPC_CONNECTION_CHANNEL, IPC_NOTIFY_CHANNEL]);
  });

  test('exposes exactly the contract methods plus onEvent, all functions, frozen', () => {
    const { invoke, subscribe } = fakeIpc();
    const bridge = createBridge(invoke, subscribe);
    expect(Object.keys(bridge).sort()).toEqual(CONTRACT);
    expect([...BRIDGE_METHOD_NAMES].sort()).toEqual([...CONSOLE_METHOD_NAMES].sort());
    for (const key of Object.keys(bridge)) expect(typeof (bridge as unknown as Record<string, unknown>)[key]).toBe('function');
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  test('each method invokes its own channel with the single argument ({} when none)', async () => {
    const { invoke, subscribe } = fakeIpc();
    const bridge = createBridge(invoke, subscribe);
    await bridge.getReceipt({ seq: 7 });
    await bridge.health();
    expect(invoke).toHaveBeenNthCalledWith(1, `${IPC_CHANNEL_PREFIX}getReceipt`, { seq: 7 });
    expect(invoke).toHaveBeenNthCalledWith(2, `${IPC_CHANNEL_PREFIX}health`, {});
    for (const name of CONSOLE_METHOD_NAMES) {
      invoke.mockClear();
      await (bridge[name] as (arg?: unknown) => Promise<unknown>)();
      expect(invoke).toHaveBeenCalledWith(IPC_CHANNEL_PREFIX + name, {});
    }
  });

  test('a rejected invoke becomes an error value, never an exception', async () => {
    const bridge = createBridge(async () => {
      throw new Error("No handler registered for 'console:health'");
    }, fakeIpc().subscribe);
    await expect(bridge.health()).resolves.toEqual({
      ok: false,
      error: { code: 'unavailable', message: "health: No handler registered for 'console:health'" },
    });
  });

  test('onEvent delivers payloads only, and unsubscribe removes the listener', () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc.invoke, ipc.subscribe);
    const seen: ConsoleEvent[] = [];
    const unsubscribe = bridge.onEvent((e) => seen.push(e));
    const event = { type: 'allow-list', allowList: { restriction: 'open', lockedByEnvironment: false, entries: [], unknownListed: [] } };
    ipc.emit(IPC_EVENT_CHANNEL, event);
    expect(seen).toEqual([event]);
    unsubscribe();
    unsubscribe();
    ipc.emit(IPC_EVENT_CHANNEL, event);
    expect(seen).toHaveLength(1);
    expect(ipc.handlers.get(IPC_EVENT_CHANNEL)?.size).toBe(0);
    expect(() => bridge.onEvent(undefined as never)).toThrow(TypeError);
  });

  test('onConnection hands on the main process’s connection state, and notifyProposal invokes its own channel', async () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc.invoke, ipc.subscribe);
    const states: string[] = [];
    const off = bridge.onConnection((state) => states.push(state));
    ipc.emit(IPC_CONNECTION_CHANNEL, 'disconnected');
    ipc.emit(IPC_CONNECTION_CHANNEL, 'connected');
    off();
    ipc.emit(IPC_CONNECTION_CHANNEL, 'disconnected');
    expect(states).toEqual(['disconnected', 'connected']);
    await bridge.notifyProposal({ id: 'p-1' });
    expect(ipc.invoke).toHaveBeenCalledWith(IPC_NOTIFY_CHANNEL, { id: 'p-1' });
    expect(() => bridge.onConnection(undefined as never)).toThrow(TypeError);
  });
});

/** A stand-in for the `electron` module a sandboxed preload sees. */
function fakeElectron() {
  const exposed: Record<string, unknown> = {};
  const listeners = new Map<string, Set<(...args: unknown[]) => void>>();
  const electron = {
    contextBridge: {
      exposeInMainWorld: (name: string, api: unknown) => {
        exposed[name] = api;
      },
    },
    ipcRenderer: {
      invoke: vi.fn(async () => ({ ok: true, value: null })),
      on: (channel: string, fn: (...args: unknown[]) => void) => {
        const set = listeners.get(channel) ?? new Set();
        set.add(fn);
        listeners.set(channel, set);
      },
      removeListener: (channel: string, fn: (...args: unknown[]) => void) => listeners.get(channel)?.delete(fn),
    },
  };
  return { electron, exposed, listeners };
}

function checkExposed(exposed: Record<string, unknown>, listeners: Map<string, Set<(...args: unknown[]) => void>>) {
  expect(Object.keys(exposed)).toEqual([BRIDGE_GLOBAL]);
  const api = exposed[BRIDGE_GLOBAL] as Record<string, unknown>;
  expect(Object.keys(api).sort()).toEqual(CONTRACT);
  // The raw IpcRendererEvent (first argument) never reaches the page's listener.
  const received: unknown[][] = [];
  const off = (api['onEvent'] as (l: (...a: unknown[]) => void) => () => void)((...args) => received.push(args));
  const rawEvent = { sender: { send: () => undefined }, ports: [] };
  listeners.get(IPC_EVENT_CHANNEL)?.forEach((fn) => fn(rawEvent, { type: 'proposal' }));
  expect(received).toEqual([[{ type: 'proposal' }]]);
  off();
  expect(listeners.get(IPC_EVENT_CHANNEL)?.size).toBe(0);
}

describe('preload entry (src/preload/index.ts)', () => {
  test('exposes only window.openexec with the contract, and no raw IPC event', async () => {
    const fake = fakeElectron();
    vi.doMock('electron', () => fake.electron);
    await import('../../src/preload/index');
    vi.doUnmock('electron');
    checkExposed(fake.exposed, fake.listeners);
  });
});

const builtPreload = join(import.meta.dirname, '../../out/preload/index.cjs');
const missingBuild = !existsSync(builtPreload);
if (missingBuild) console.log(`skipping built-preload test: ${builtPreload} is missing (run \`npm run build\`)`);

describe('built preload (out/preload/index.cjs)', () => {
  test.skipIf(missingBuild && process.env['CI'] !== 'true')(
    'is one CommonJS file that requires only electron and exposes the contract',
    () => {
      expect(existsSync(builtPreload), 'out/preload/index.cjs must be built').toBe(true);
      const fake = fakeElectron();
      const required: string[] = [];
      const module = { exports: {} };
      runInNewContext(readFileSync(builtPreload, 'utf8'), {
        module,
        exports: module.exports,
        require: (id: string) => {
          required.push(id);
          if (id !== 'electron') throw new Error(`a sandboxed preload cannot require ${id}`);
          return fake.electron;
        },
      });
      expect([...new Set(required)]).toEqual(['electron']);
      checkExposed(fake.exposed, fake.listeners);
    },
  );
});
