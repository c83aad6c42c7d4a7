/**
 * The console contract over IPC, minus Electron: who may call, argument validation, and the
 * call itself. src/main/electron/console-ipc.ts wires this to ipcMain; unit tests drive it with
 * plain objects (test/electron/console-ipc-dispatch.test.ts).
 */
import type { ConsoleApi, ConsoleMethod } from '../../shared/console-api';
import { CONSOLE_METHOD_NAMES, CONSOLE_METHODS, IPC_CHANNEL_PREFIX } from '../../shared/console-api';
import type { ConsoleResult } from '../../shared/console-result';
import { fail } from '../../shared/console-result';
import { isAppUrl } from './app-url';

/** The parts of Electron's WebFrameMain the sender check reads. */
export interface FrameLike {
  readonly url: string;
  readonly processId: number;
  readonly routingId: number;
  readonly parent: unknown;
}

/** The parts of Electron's IpcMainInvokeEvent the sender check reads. */
export interface InvokeEventLike {
  readonly sender: unknown;
  readonly senderFrame: FrameLike | null;
}

/** What the one trusted window looks like right now. */
export interface TrustedWindow {
  readonly webContents: unknown;
  readonly mainFrame: FrameLike;
  /** The URL the renderer was loaded from: a file:// URL, or the dev server URL in development. */
  readonly appUrl: string;
}

/** Null when the call comes from our window's main frame showing our app; otherwise why not. */
export function senderProblem(event: InvokeEventLike, win: TrustedWindow | null): string | null {
  if (!win) return 'no console window is open';
  if (event.sender !== win.webContents) return 'the call does not come from the console window';
  const frame = event.senderFrame;
  if (!frame) return 'the calling frame is gone';
  const isMainFrame =
    frame === win.mainFrame ||
    (frame.parent === null && frame.processId === win.mainFrame.processId && frame.routingId === win.mainFrame.routingId);
  if (!isMainFrame) return 'the call does not come from the console window’s main frame';
  if (!isAppUrl(frame.url, win.appUrl)) return 'the calling frame is not showing the console';
  return null;
}

/** Turns a schema failure into one line: "path: message; path: message". */
function describeIssues(issues: readonly { path: readonly PropertyKey[]; message: string }[]): string {
  return issues.map((issue) => (issue.path.length ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message)).join('; ');
}

/** Validates `arg` with the method's shared schema, then calls the service. Never throws. */
export async function dispatchConsoleCall(api: ConsoleApi, method: ConsoleMethod, arg: unknown): Promise<ConsoleResult<unknown>> {
  const schema = CONSOLE_METHODS[method];
  if (!schema) return fail('invalid_input', `unknown method ${String(method)}`);
  const parsed = schema.safeParse(arg ?? {});
  if (!parsed.success) return fail('invalid_input', describeIssues(parsed.error.issues));
  try {
    const call = api[method] as (input: unknown) => Promise<ConsoleResult<unknown>>;
    const result = await call.call(api, parsed.data);
    if (!result || typeof result !== 'object' || typeof (result as { ok?: unknown }).ok !== 'boolean') {
      return fail('internal', `${method} returned no result`);
    }
    return result;
  } catch (err) {
    return fail('internal', `${method} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export type ConsoleIpcHandler = (event: InvokeEventLike, arg: unknown) => Promise<ConsoleResult<unknown>>;

/**
 * One handler per contract method, keyed by IPC channel. Each refuses callers other than the
 * trusted window (`forbidden`) before looking at the argument.
 */
export function createConsoleIpcHandlers(api: ConsoleApi, currentWindow: () => TrustedWindow | null): Map<string, ConsoleIpcHandler> {
  const handlers = new Map<string, ConsoleIpcHandler>();
  for (const method of CONSOLE_METHOD_NAMES) {
    handlers.set(IPC_CHANNEL_PREFIX + method, async (event, arg) => {
      const problem = senderProblem(event, currentWindow());
      if (problem) return fail('forbidden', `Refused: ${problem}.`);
      return dispatchConsoleCall(api, method, arg);
    });
  }
  return handlers;
}
