/**
 * The renderer's only way out: `window.openexec`, read at call time (so a test can install
 * its own bridge before or after the page loads). Every call resolves to a ConsoleResult;
 * a missing bridge or a thrown error becomes an `unavailable` error value.
 */
import type { ConnectionState, ConsoleApi, ConsoleBridge, ConsoleMethod } from '../../shared/console-api';
import { BRIDGE_GLOBAL_NAME } from '../../shared/console-bridge-names';
import type { ConsoleEvent, NotifyResultDto } from '../../shared/console-dto';
import type { ConsoleResult } from '../../shared/console-result';

export type ValueOf<M extends ConsoleMethod> = Awaited<ReturnType<ConsoleApi[M]>> extends ConsoleResult<infer T> ? T : never;

export function getBridge(): ConsoleBridge | null {
  const candidate = (globalThis as Record<string, unknown>)[BRIDGE_GLOBAL_NAME];
  return candidate && typeof candidate === 'object' ? (candidate as ConsoleBridge) : null;
}

function isResult(value: unknown): value is ConsoleResult<unknown> {
  return !!value && typeof value === 'object' && typeof (value as { ok?: unknown }).ok === 'boolean';
}

const unreachableListeners = new Set<() => void>();

/** Called whenever a call finds the core unreachable; returns the unsubscribe. */
export function onUnreachable(listener: () => void): () => void {
  unreachableListeners.add(listener);
  return () => unreachableListeners.delete(listener);
}

async function invokeBridge<T>(name: string, arg: unknown): Promise<ConsoleResult<T>> {
  const bridge = getBridge();
  const fn = (bridge as Record<string, unknown> | null)?.[name] as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (!bridge || typeof fn !== 'function') {
    return { ok: false, error: { code: 'unavailable', message: 'The console bridge is not available.' } };
  }
  let result: ConsoleResult<T>;
  try {
    const answer = await fn.apply(bridge, arg === undefined ? [] : [arg]);
    result = isResult(answer)
      ? (answer as ConsoleResult<T>)
      : { ok: false, error: { code: 'internal', message: `${name} returned no result.` } };
  } catch (err) {
    result = { ok: false, error: { code: 'unavailable', message: err instanceof Error ? err.message : String(err) } };
  }
  if (!result.ok && result.error.code === 'unavailable') for (const listener of [...unreachableListeners]) listener();
  return result;
}

export function callConsole<M extends ConsoleMethod>(method: M, ...args: Parameters<ConsoleApi[M]>): Promise<ConsoleResult<ValueOf<M>>> {
  return invokeBridge<ValueOf<M>>(method, args[0]);
}

/** Asks the main process for an OS notification about a pending proposal. */
export function requestNotification(id: string): Promise<ConsoleResult<NotifyResultDto>> {
  return invokeBridge<NotifyResultDto>('notifyProposal', { id });
}

/** Subscribes to the bridge's connection signal; returns an unsubscribe (a no-op without one). */
export function onConnectionChange(listener: (state: ConnectionState) => void): () => void {
  const bridge = getBridge();
  if (!bridge || typeof bridge.onConnection !== 'function') return () => undefined;
  try {
    return bridge.onConnection(listener);
  } catch {
    return () => undefined;
  }
}

/** Subscribes to pushed events; returns an unsubscribe (a no-op when there is no bridge). */
export function onConsoleEvent(listener: (event: ConsoleEvent) => void): () => void {
  const bridge = getBridge();
  if (!bridge || typeof bridge.onEvent !== 'function') return () => undefined;
  try {
    return bridge.onEvent(listener);
  } catch {
    return () => undefined;
  }
}

/**
 * One line for an error value, for display. An unreachable core is said in plain words: the
 * transport's own message ("fetch failed", "No handler registered") means nothing to an operator.
 */
export function errorText(error: { code: string; message: string }): string {
  if (error.code === 'unavailable') return 'OpenExec is not reachable right now. The console reconnects by itself.';
  return error.message || error.code;
}
