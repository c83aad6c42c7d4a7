/**
 * Builds the object the preload exposes as `window.openexec`: exactly the console contract's
 * methods plus `onEvent`, nothing else. Electron-free so that a unit test can check the list.
 *
 * Errors are values: a rejected invoke (no handler, a serialisation failure) becomes
 * `{ ok: false, error: { code: 'unavailable', ... } }` rather than an exception.
 */
import type { ConsoleBridge, ConsoleMethod } from '../shared/console-api';
import { IPC_CHANNEL_PREFIX_NAME as IPC_CHANNEL_PREFIX, IPC_EVENT_CHANNEL_NAME as IPC_EVENT_CHANNEL } from '../shared/console-bridge-names';
import type { ConsoleEvent } from '../shared/console-dto';
import type { ConsoleResult } from '../shared/console-result';

/** `ipcRenderer.invoke` narrowed to what the bridge needs. */
export type BridgeInvoke = (channel: string, arg: unknown) => Promise<unknown>;
/** Subscribes to a channel with a handler that receives only the payload; returns an unsubscribe. */
export type BridgeSubscribe = (channel: string, handler: (payload: unknown) => void) => () => void;

/**
 * Every contract method, spelled out here so that the preload bundle does not pull in the
 * schema library. `Record<ConsoleMethod, true>` makes the compiler insist that the list is
 * complete and has no extras; test/electron/preload-bridge.test.ts compares it with
 * CONSOLE_METHOD_NAMES at run time.
 */
const BRIDGE_METHODS: Record<ConsoleMethod, true> = {
  health: true,
  listPending: true,
  getProposal: true,
  approve: true,
  deny: true,
  listApprovals: true,
  getAllowList: true,
  setAllowed: true,
  searchReceipts: true,
  getReceipt: true,
  verifyReceipt: true,
  verifyChain: true,
  verifyChainRange: true,
  receiptPublicKey: true,
};

export const BRIDGE_METHOD_NAMES = Object.keys(BRIDGE_METHODS) as ConsoleMethod[];

function unavailable(method: string, err: unknown): ConsoleResult<never> {
  const detail = err instanceof Error ? err.message : String(err);
  return { ok: false, error: { code: 'unavailable', message: `${method}: ${detail}` } };
}

export function createBridge(invoke: BridgeInvoke, subscribe: BridgeSubscribe): ConsoleBridge {
  const bridge: Record<string, unknown> = {};
  for (const name of BRIDGE_METHOD_NAMES) {
    bridge[name] = async (arg?: unknown): Promise<ConsoleResult<unknown>> => {
      try {
        return (await invoke(IPC_CHANNEL_PREFIX + name, arg ?? {})) as ConsoleResult<unknown>;
      } catch (err) {
        return unavailable(name, err);
      }
    };
  }
  bridge['onEvent'] = (listener: (event: ConsoleEvent) => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a listener function');
    let active = true;
    const unsubscribe = subscribe(IPC_EVENT_CHANNEL, (payload) => {
      if (active) listener(payload as ConsoleEvent);
    });
    return () => {
      if (!active) return;
      active = false;
      unsubscribe();
    };
  };
  return Object.freeze(bridge) as unknown as ConsoleBridge;
}
