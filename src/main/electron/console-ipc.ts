/**
 * Registers the console contract on ipcMain (one handle per method, sender-checked and
 * schema-validated by console-ipc-dispatch.ts) and forwards service events to the window.
 */
import { Notification, type BrowserWindow, type IpcMain } from 'electron';
import type { ConnectionState, ConsoleApi } from '../../shared/console-api';
import { IPC_CONNECTION_CHANNEL, IPC_EVENT_CHANNEL, IPC_NOTIFY_CHANNEL } from '../../shared/console-api';
import type { ConsoleEvent } from '../../shared/console-dto';
import type { InvokeEventLike, TrustedWindow } from '../ipc/console-ipc-dispatch';
import { createConsoleIpcHandlers } from '../ipc/console-ipc-dispatch';
import { createNotifyHandler } from '../ipc/proposal-notifier';

export function trustedWindowOf(win: BrowserWindow | null, appUrl: string): TrustedWindow | null {
  if (!win || win.isDestroyed()) return null;
  return { webContents: win.webContents, mainFrame: win.webContents.mainFrame, appUrl };
}

/** Returns a function that removes every handler again. */
export function registerConsoleIpc(
  ipcMain: IpcMain,
  api: ConsoleApi,
  currentWindow: () => TrustedWindow | null,
  window: () => BrowserWindow | null,
): () => void {
  const handlers = createConsoleIpcHandlers(api, currentWindow);
  for (const [channel, handler] of handlers) {
    ipcMain.handle(channel, (event, arg: unknown) => handler(event as InvokeEventLike, arg));
  }
  const notify = createNotifyHandler({
    api,
    currentWindow,
    windowFocused: () => window()?.isFocused() ?? false,
    show: ({ title, body }) => {
      if (!Notification.isSupported()) return;
      const notification = new Notification({ title, body });
      // A click brings the console forward; the proposal is waiting at the top of Pending.
      notification.on('click', () => {
        const win = window();
        if (!win || win.isDestroyed()) return;
        if (win.isMinimized()) win.restore();
        win.show();
        win.focus();
      });
      notification.show();
    },
  });
  ipcMain.handle(IPC_NOTIFY_CHANNEL, (event, arg: unknown) => notify(event as InvokeEventLike, arg));
  return () => {
    for (const channel of handlers.keys()) ipcMain.removeHandler(channel);
    ipcMain.removeHandler(IPC_NOTIFY_CHANNEL);
  };
}

/** Tells the window whether the core is there (it goes away when the app shuts down). */
export function sendConnectionState(win: BrowserWindow | null, state: ConnectionState): void {
  if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return;
  win.webContents.send(IPC_CONNECTION_CHANNEL, state);
}

export interface EventSource {
  subscribe(listener: (event: ConsoleEvent) => void): () => void;
}

/** Pushes every service event to the window's main frame; returns the unsubscribe. */
export function forwardConsoleEvents(events: EventSource, currentWindow: () => BrowserWindow | null): () => void {
  return events.subscribe((event) => {
    const win = currentWindow();
    if (!win || win.isDestroyed() || win.webContents.isDestroyed()) return;
    win.webContents.send(IPC_EVENT_CHANNEL, event);
    // Something needs a human: make the taskbar/dock entry ask for attention.
    if (event.type === 'proposal' && event.proposal.status === 'pending' && !win.isFocused()) win.flashFrame(true);
  });
}
