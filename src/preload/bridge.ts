/**
 * Builds the object the preload exposes as `window.openexec`: exactly the console contract's
 * methods plus `onEvent`, `onConnection` and `notifyProposal`, nothing else. Electron-free so that a unit test can check the list.
 *
 * Errors are values: a rejected invoke (no handler, a serialisation failure) becomes
 * `{ ok: false, error: { code: 'unavailable', ... } }` rather than an exception.
 */
import type { ConnectionState, ConsoleBridge, ConsoleMethod } from '../shared/console-api';
import {
  IPC_CHANNEL_PREFIX_NAME as IPC_CHANNEL_PREFIX,
  IPC_CONNECTION_CHANNEL_NAME as IPC_CONNECTION_CHANNEL,
  IPC_EVENT_CHANNEL_NAME as IPC_EVENT_CHANNEL,
  IPC_NOTIFY_CHANNEL_NAME as IPC_NOTIFY_CHANNEL,
} from '../shared/console-bridge-names';
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
  extend: true,
  listApprovals: true,
  getAllowList: true,
  setAllowed: true,
  searchReceipts: true,
  countReceipts: true,
  getReceipt: true,
  verifyReceipt: true,
  verifyChain: true,
  verifyChainRange: true,
  receiptPublicKey: true,
  issueCheckpoint: true,
  exportBundle: true,
  inclusionProof: true,
  previewSimilar: true,
  approveSimilar: true,
  listGrants: true,
  revokeGrant: true,
  hardeningReport: true,
  backup: true,
  purge: true,
  addAgent: true,
  listAgents: true,
  revokeAgent: true,
  listOperators: true,
  listToolPins: true,
  acceptToolDefinition: true,
  closeOrphans: true,
};

export const BRIDGE_METHOD_NAMES = Object.keys(BRIDGE_METHODS) as ConsoleMethod[];

function unavailable(method: string, err: unknown): ConsoleResult<never> {
  const detail = err instanceof Error ? err.message : String(err);
  return { ok: false, error: { code: 'unavailable', message: `${method}: ${detail}` } };
}

function invoker(invoke: BridgeInvoke, name: string, channel: string) {
  return async (arg?: unknown): Promise<ConsoleResult<unknown>> => {
    try {
      return (await invoke(channel, arg ?? {})) as ConsoleResult<unknown>;
    } catch (err) {
      return unavailable(name, err);
    }
  };
}

/** A listener registration that hands on payloads only; its unsubscribe is idempotent. */
function listenerOn<T>(subscribe: BridgeSubscribe, name: string, channel: string) {
  return (listener: (payload: T) => void): (() => void) => {
    if (typeof listener !== 'function') throw new TypeError(`${name} needs a listener function`);
    let active = true;
    const unsubscribe = subscribe(channel, (payload) => {
      if (active) listener(payload as T);
    });
    return () => {
      if (!active) return;
      active = false;
      unsubscribe();
    };
  };
}

export function createBridge(invoke: BridgeInvoke, subscribe: BridgeSubscribe): ConsoleBridge {
  const bridge: Record<string, unknown> = {};
  for (const name of BRIDGE_METHOD_NAMES) bridge[name] = invoker(invoke, name, IPC_CHANNEL_PREFIX + name);
  bridge['onEvent'] = listenerOn<ConsoleEvent>(subscribe, 'onEvent', IPC_EVENT_CHANNEL);
  bridge['onConnection'] = listenerOn<ConnectionState>(subscribe, 'onConnection', IPC_CONNECTION_CHANNEL);
  bridge['notifyProposal'] = invoker(invoke, 'notifyProposal', IPC_NOTIFY_CHANNEL);
  return Object.freeze(bridge) as unknown as ConsoleBridge;
}
