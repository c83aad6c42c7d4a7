/**
 * Zod-free copies of the bridge and IPC names from console-api.ts, for the preload and renderer
 * bundles: importing any value from console-api.ts pulls the schema library into them (its
 * CONSOLE_METHODS table builds schemas at load). test/electron/preload-bridge.test.ts checks
 * that these equal the contract's constants.
 */
export const BRIDGE_GLOBAL_NAME = 'openexec';
export const IPC_CHANNEL_PREFIX_NAME = 'console:';
export const IPC_EVENT_CHANNEL_NAME = 'console-event';
export const IPC_CONNECTION_CHANNEL_NAME = 'console-connection';
export const IPC_NOTIFY_CHANNEL_NAME = 'console-notify';
