/**
 * The renderer's only way out: `window.openexec`, read at call time (so a test can install
 * its own bridge before or after the page loads). Every call resolves to a ConsoleResult;
 * a missing bridge or a thrown error becomes an `unavailable` error value.
 */
import type { ConsoleApi, ConsoleBridge, ConsoleMethod } from '../../shared/console-api';
import { BRIDGE_GLOBAL_NAME } from '../../shared/console-bridge-names';
import type { ConsoleEvent } from '../../shared/console-dto';
import type { ConsoleResult } from '../../shared/console-result';

export type ValueOf<M extends ConsoleMethod> =
  Awaited<ReturnType<ConsoleApi[M]>> extends ConsoleResult<infer T> ? T : never;

export function getBridge(): ConsoleBridge | null {
  const candidate = (globalThis as Record<string, unknown>)[BRIDGE_GLOBAL_NAME];
  return candidate && typeof candidate === 'object' ? (candidate as ConsoleBridge) : null;
}

function isResult(value: unknown): value is ConsoleResult<unknown> {
  return !!value && typeof value === 'object' && typeof (value as { ok?: unknown }).ok === 'boolean';
}

export async function callConsole<M extends ConsoleMethod>(
  method: M,
  ...args: Parameters<ConsoleApi[M]>
): Promise<ConsoleResult<ValueOf<M>>> {
  const bridge = getBridge();
  const fn = bridge?.[method] as ((...a: unknown[]) => Promise<unknown>) | undefined;
  if (!bridge || typeof fn !== 'function') {
    return { ok: false, error: { code: 'unavailable', message: 'The console bridge is not available.' } };
  }
  try {
    const result = await fn.apply(bridge, args);
    if (!isResult(result)) {
      return { ok: false, error: { code: 'internal', message: `${method} returned no result.` } };
    }
    return result as ConsoleResult<ValueOf<M>>;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, error: { code: 'unavailable', message } };
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

/** One line for an error value, for display. */
export function errorText(error: { code: string; message: string }): string {
  return error.message || error.code;
}
