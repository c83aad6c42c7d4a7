/**
 * Sandboxed preload: exposes the console contract on `window.openexec` and nothing else.
 * The renderer never sees `ipcRenderer` or an IpcRendererEvent (the event wrapper drops it).
 * Built as one CommonJS file that requires only `electron` (see electron.vite.config.ts).
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { BRIDGE_GLOBAL_NAME } from '../shared/console-bridge-names';
import { createBridge } from './bridge';

const bridge = createBridge(
  (channel, arg) => ipcRenderer.invoke(channel, arg),
  (channel, handler) => {
    const wrapped = (_event: IpcRendererEvent, payload: unknown): void => handler(payload);
    ipcRenderer.on(channel, wrapped);
    return () => {
      ipcRenderer.removeListener(channel, wrapped);
    };
  },
);

contextBridge.exposeInMainWorld(BRIDGE_GLOBAL_NAME, bridge);
