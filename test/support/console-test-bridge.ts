/**
 * `window.openexec` for a playwright-core Page, backed by a real running core over the
 * /console HTTP routes: what the preload does over IPC in Electron, done from Node here. The
 * page never talks HTTP itself (its CSP says `connect-src 'none'`, and the API refuses any
 * request that carries an Origin header); every call crosses `page.exposeFunction` into Node.
 */
import { request as httpRequest } from 'node:http';
import type { Page } from 'playwright-core';
import { BRIDGE_GLOBAL, CONSOLE_METHOD_NAMES } from '../../src/shared/console-api.ts';
import type { ConsoleEvent } from '../../src/shared/console-dto.ts';
import { CONSOLE_ERROR_CODES, type ConsoleErrorCode, type ConsoleResult } from '../../src/shared/console-result.ts';

export interface ConsoleEndpoint {
  /** `http://127.0.0.1:<port>` of the running core */
  url: string;
  /** Its console bearer token (`app.consoleToken`). */
  token: string;
}

export interface ConsoleTestBridge {
  /** Contract calls the page has made, in order. */
  readonly calls: readonly string[];
  /** Events delivered into the page, in order. */
  readonly pushed: readonly ConsoleEvent[];
  /** Resolves when the page calls `method` (a call after the first `after` calls counts). */
  waitForCall(method: string, after?: number, timeoutMs?: number): Promise<void>;
  /** Resolves once every event received so far has been handed to the page. */
  settled(): Promise<void>;
  /** Stops the event stream (the page's calls fail with `unavailable` afterwards). */
  close(): Promise<void>;
}

const CALL_BINDING = '__openexecCall';
const DISPATCH_GLOBAL = '__openexecDispatch';

/** The inverse of the /console routes' status table, for answers that carry no `code`. */
const CODE_BY_STATUS: Record<number, ConsoleErrorCode> = {
  400: 'invalid_input',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  410: 'expired',
  413: 'invalid_input',
  415: 'invalid_input',
  422: 'invalid_input',
  423: 'locked',
  503: 'unavailable',
};

function isCode(value: unknown): value is ConsoleErrorCode {
  return typeof value === 'string' && (CONSOLE_ERROR_CODES as readonly string[]).includes(value);
}

/** `200` → `{ok: true, value}`; anything else → `{ok: false, error: {code, message: detail}}`. */
export function httpAnswerToResult(status: number, text: string): ConsoleResult<unknown> {
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = null;
  }
  if (status === 200) return { ok: true, value: body };
  const fields = (body && typeof body === 'object' ? body : {}) as { detail?: unknown; code?: unknown };
  const code = isCode(fields.code) ? fields.code : (CODE_BY_STATUS[status] ?? 'internal');
  const message = typeof fields.detail === 'string' ? fields.detail : `HTTP ${status}`;
  return { ok: false, error: { code, message } };
}

async function callOverHttp(endpoint: ConsoleEndpoint, method: string, input: unknown): Promise<ConsoleResult<unknown>> {
  try {
    const res = await fetch(`${endpoint.url}/console/${encodeURIComponent(method)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${endpoint.token}` },
      body: JSON.stringify(input ?? {}),
    });
    return httpAnswerToResult(res.status, await res.text());
  } catch (err) {
    return { ok: false, error: { code: 'unavailable', message: `${method}: ${err instanceof Error ? err.message : String(err)}` } };
  }
}

/**
 * Runs in the page before any of its scripts (serialised by Playwright, so self-contained).
 * Mirrors src/preload/bridge.ts: exactly the contract's methods plus onEvent, frozen.
 */
function installPageBridge(spec: { global: string; methods: string[]; call: string; dispatch: string }): void {
  const g = globalThis as unknown as Record<string, unknown>;
  const listeners = new Set<(event: unknown) => void>();
  const bridge: Record<string, unknown> = {};
  for (const name of spec.methods) {
    bridge[name] = (arg?: unknown) => (g[spec.call] as (m: string, a: unknown) => Promise<unknown>)(name, arg ?? {});
  }
  bridge['onEvent'] = (listener: (event: unknown) => void) => {
    if (typeof listener !== 'function') throw new TypeError('onEvent needs a listener function');
    let active = true;
    listeners.add(listener);
    return () => {
      if (!active) return;
      active = false;
      listeners.delete(listener);
    };
  };
  Object.defineProperty(g, spec.global, { value: Object.freeze(bridge), enumerable: true });
  // Assigned, not written as `{ value: (event) => … }`: tsx (esbuild keepNames) wraps a named
  // object-literal function in a `__name` helper that does not exist in the page.
  const dispatch: PropertyDescriptor = {};
  dispatch.value = (event: unknown) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        // Surface it as the page's own uncaught error, as a throwing IPC listener would.
        setTimeout(() => {
          throw err;
        });
      }
    }
  };
  Object.defineProperty(g, spec.dispatch, dispatch);
}

/**
 * Reads `GET /console/events` and calls `onEvent` for each event; resolves once the stream is
 * open, so nothing committed afterwards is missed. node:http rather than fetch: aborting an
 * undici stream leaves a spare pooled connection that holds up the server's close for 4 s.
 */
function openEventStream(endpoint: ConsoleEndpoint, onEvent: (event: ConsoleEvent) => void): Promise<{ close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${endpoint.url}/console/events`, { headers: { authorization: `Bearer ${endpoint.token}` }, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`console event stream answered ${res.statusCode}`));
        return;
      }
      const closed = new Promise<void>((done) => res.once('close', done));
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = frame
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (data) onEvent(JSON.parse(data) as ConsoleEvent);
        }
      });
      res.on('error', () => undefined);
      resolve({
        close: async () => {
          req.destroy();
          await closed;
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Installs the bridge on `page`; call before `page.goto`. Resolves once the event stream is
 * open, so anything the core commits afterwards reaches the page.
 */
export async function installConsoleBridge(page: Page, endpoint: ConsoleEndpoint): Promise<ConsoleTestBridge> {
  const calls: string[] = [];
  const pushed: ConsoleEvent[] = [];
  const callWatchers = new Set<() => void>();
  await page.exposeFunction(CALL_BINDING, (method: string, input: unknown) => {
    calls.push(method);
    for (const watcher of [...callWatchers]) watcher();
    return callOverHttp(endpoint, method, input);
  });
  await page.addInitScript(installPageBridge, {
    global: BRIDGE_GLOBAL,
    methods: [...CONSOLE_METHOD_NAMES],
    call: CALL_BINDING,
    dispatch: DISPATCH_GLOBAL,
  });

  // Events are delivered one at a time, in commit order.
  let delivery: Promise<void> = Promise.resolve();
  const deliver = (event: ConsoleEvent): void => {
    delivery = delivery.then(async () => {
      if (page.isClosed()) return;
      if (event.type === 'resync') {
        // The server dropped this stream. A new one is open before the page reloads its data,
        // so nothing committed in between is missed.
        await stream.close();
        stream = await openEventStream(endpoint, deliver).catch(() => stream);
      }
      try {
        await page.evaluate(
          ([name, e]) => (globalThis as unknown as Record<string, ((x: unknown) => void) | undefined>)[name]?.(e),
          [DISPATCH_GLOBAL, event] as const,
        );
        pushed.push(event);
      } catch {
        // The page navigated or closed mid-delivery: lost, as an IPC message to a reloading window is.
      }
    });
  };
  let stream = await openEventStream(endpoint, deliver);

  return {
    calls,
    pushed,
    waitForCall: (method, after = 0, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          callWatchers.delete(check);
          reject(new Error(`the page did not call ${method} within ${timeoutMs} ms`));
        }, timeoutMs);
        function check(): void {
          if (!calls.slice(after).includes(method)) return;
          clearTimeout(timer);
          callWatchers.delete(check);
          resolve();
        }
        callWatchers.add(check);
        check();
      }),
    settled: async () => {
      // A delivery may queue another while we wait; loop until the chain stops growing.
      let seen: Promise<void> | null = null;
      while (seen !== delivery) {
        seen = delivery;
        await seen;
      }
    },
    async close() {
      await stream.close();
      await delivery;
    },
  };
}
