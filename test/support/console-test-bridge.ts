/**
 * `window.openexec` for a playwright-core Page, backed by a real running core over the
 * /console HTTP routes: what the preload does over IPC in Electron, done from Node here. The
 * page never talks HTTP itself (its CSP says `connect-src 'none'`, and the API refuses any
 * request that carries an Origin header); every call crosses `page.exposeFunction` into Node.
 */
import { request as httpRequest } from 'node:http';
import type { Page } from 'playwright-core';
import { BRIDGE_GLOBAL, CONSOLE_METHOD_NAMES, NOTIFY_INPUT, type ConnectionState } from '../../src/shared/console-api.ts';
import type { ConsoleEvent } from '../../src/shared/console-dto.ts';
import { CONSOLE_ERROR_CODES, type ConsoleErrorCode, type ConsoleResult } from '../../src/shared/console-result.ts';
import { consoleCodeForStatus } from '../../src/shared/error-codes.ts';

export interface ConsoleEndpoint {
  /** `http://127.0.0.1:<port>` of the running core */
  url: string;
  /** Its console bearer token (`app.consoleToken`). Read at each call: a restarted core's new token may be set here. */
  token: string;
}

export interface ConsoleTestBridge {
  /** Contract calls the page has made, in order. */
  readonly calls: readonly string[];
  /** Events delivered into the page, in order. */
  readonly pushed: readonly ConsoleEvent[];
  /** Connection states delivered into the page, in order. */
  readonly connection: readonly ConnectionState[];
  /** Proposal ids the page asked an OS notification for (what the main process would show). */
  readonly notified: readonly string[];
  /** Resolves when the page calls `method` (a call after the first `after` calls counts). */
  waitForCall(method: string, after?: number, timeoutMs?: number): Promise<void>;
  /**
   * Holds the page's calls of `method` after the first `after` of them (counted from now) until
   * the returned function is called: a test's way to catch the page between two calls.
   */
  hold(method: string, after: number): () => void;
  /**
   * Lets the page's `nth` call of `method` (counted from now, from 0) reach the core, and holds
   * its answer back until `release` is called; `answered` resolves once the core has answered.
   * A slow answer made on purpose, in the transport: the core computes it as ever.
   */
  holdAnswer(method: string, nth?: number): { answered: Promise<void>; release: () => void };
  /** Resolves once every event received so far has been handed to the page. */
  settled(): Promise<void>;
  /** Stops the event stream (the page's calls fail with `unavailable` afterwards). */
  close(): Promise<void>;
}

const CALL_BINDING = '__openexecCall';
const NOTIFY_BINDING = '__openexecNotify';
const DISPATCH_GLOBAL = '__openexecDispatch';
const CONNECTION_GLOBAL = '__openexecConnection';
const RECONNECT_MS = 200;

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
  const code = isCode(fields.code) ? fields.code : consoleCodeForStatus(status);
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
function installPageBridge(spec: {
  global: string;
  methods: string[];
  call: string;
  notify: string;
  dispatch: string;
  connection: string;
}): void {
  const g = globalThis as unknown as Record<string, unknown>;
  const bridge: Record<string, unknown> = {};
  for (const name of spec.methods) {
    bridge[name] = (arg?: unknown) => (g[spec.call] as (m: string, a: unknown) => Promise<unknown>)(name, arg ?? {});
  }
  bridge['notifyProposal'] = (arg?: unknown) => (g[spec.notify] as (a: unknown) => Promise<unknown>)(arg ?? {});
  const channel = (name: string, global: string): void => {
    const listeners = new Set<(payload: unknown) => void>();
    bridge[name] = (listener: (payload: unknown) => void) => {
      if (typeof listener !== 'function') throw new TypeError(`${name} needs a listener function`);
      let active = true;
      listeners.add(listener);
      return () => {
        if (!active) return;
        active = false;
        listeners.delete(listener);
      };
    };
    // Assigned, not written as `{ value: (event) => … }`: tsx (esbuild keepNames) wraps a named
    // object-literal function in a `__name` helper that does not exist in the page.
    const dispatch: PropertyDescriptor = {};
    dispatch.value = (payload: unknown) => {
      for (const listener of [...listeners]) {
        try {
          listener(payload);
        } catch (err) {
          // Surface it as the page's own uncaught error, as a throwing IPC listener would.
          setTimeout(() => {
            throw err;
          });
        }
      }
    };
    Object.defineProperty(g, global, dispatch);
  };
  channel('onEvent', spec.dispatch);
  channel('onConnection', spec.connection);
  Object.defineProperty(g, spec.global, { value: Object.freeze(bridge), enumerable: true });
}

/**
 * Reads `GET /console/events` and calls `onEvent` for each event; resolves once the stream is
 * open, so nothing committed afterwards is missed. node:http rather than fetch: aborting an
 * undici stream leaves a spare pooled connection that holds up the server's close for 4 s.
 */
function openEventStream(
  endpoint: ConsoleEndpoint,
  onEvent: (event: ConsoleEvent) => void,
  onEnd: () => void,
): Promise<{ close(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${endpoint.url}/console/events`,
      { headers: { authorization: `Bearer ${endpoint.token}` }, agent: false },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`console event stream answered ${res.statusCode}`));
          return;
        }
        let closing = false;
        const closed = new Promise<void>((done) =>
          res.once('close', () => {
            if (!closing) onEnd();
            done();
          }),
        );
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
            closing = true;
            req.destroy();
            await closed;
          },
        });
      },
    );
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
  const connection: ConnectionState[] = [];
  const notified: string[] = [];
  const callWatchers = new Set<() => void>();
  const holds = new Map<string, { after: number; seen: number; released: Promise<void> }>();
  const answerHolds = new Map<string, { nth: number; seen: number; answered: () => void; released: Promise<void> }>();
  await page.exposeFunction(CALL_BINDING, async (method: string, input: unknown) => {
    calls.push(method);
    for (const watcher of [...callWatchers]) watcher();
    const held = holds.get(method);
    if (held && held.seen++ >= held.after) await held.released;
    const heldAnswer = answerHolds.get(method);
    const mine = heldAnswer !== undefined && heldAnswer.seen++ === heldAnswer.nth;
    const answer = await callOverHttp(endpoint, method, input);
    if (mine) {
      heldAnswer.answered();
      await heldAnswer.released;
    }
    return answer;
  });
  // What the main process does (src/main/ipc/proposal-notifier.ts) minus the OS: validate,
  // look the proposal up, and record it instead of showing it.
  await page.exposeFunction(NOTIFY_BINDING, async (input: unknown) => {
    const parsed = NOTIFY_INPUT.safeParse(input);
    if (!parsed.success) return { ok: false, error: { code: 'invalid_input', message: 'id is required' } };
    const found = await callOverHttp(endpoint, 'getProposal', parsed.data);
    if (!found.ok) return found;
    const status = (found.value as { status?: unknown }).status;
    if (status !== 'pending' || notified.includes(parsed.data.id)) return { ok: true, value: { shown: false } };
    notified.push(parsed.data.id);
    return { ok: true, value: { shown: true } };
  });
  await page.addInitScript(installPageBridge, {
    global: BRIDGE_GLOBAL,
    methods: [...CONSOLE_METHOD_NAMES],
    call: CALL_BINDING,
    notify: NOTIFY_BINDING,
    dispatch: DISPATCH_GLOBAL,
    connection: CONNECTION_GLOBAL,
  });

  // Events and connection changes are delivered one at a time, in order.
  let delivery: Promise<void> = Promise.resolve();
  const deliver = (global: string, payload: unknown, record: () => void): void => {
    delivery = delivery.then(async () => {
      if (page.isClosed()) return;
      try {
        await page.evaluate(([name, e]) => (globalThis as unknown as Record<string, ((x: unknown) => void) | undefined>)[name]?.(e), [
          global,
          payload,
        ] as const);
        record();
      } catch {
        // The page navigated or closed mid-delivery: lost, as an IPC message to a reloading window is.
      }
    });
  };
  const onEvent = (event: ConsoleEvent): void => deliver(DISPATCH_GLOBAL, event, () => pushed.push(event));
  const setConnection = (state: ConnectionState): void => deliver(CONNECTION_GLOBAL, state, () => connection.push(state));

  // Like the preload's IPC, the stream follows the core: when it ends the page is told, and
  // it is reopened (and the page told again) as soon as the core answers.
  let stopped = false;
  let stream: { close(): Promise<void> } | null = null;
  let retry: ReturnType<typeof setTimeout> | null = null;
  const onEnd = (): void => {
    stream = null;
    if (stopped) return;
    setConnection('disconnected');
    retry = setTimeout(reconnect, RECONNECT_MS);
  };
  const reconnect = (): void => {
    retry = null;
    openEventStream(endpoint, onEvent, onEnd).then(
      (opened) => {
        if (stopped) return void opened.close();
        stream = opened;
        setConnection('connected');
      },
      () => {
        if (!stopped) retry = setTimeout(reconnect, RECONNECT_MS);
      },
    );
  };
  stream = await openEventStream(endpoint, onEvent, onEnd);

  return {
    calls,
    pushed,
    connection,
    notified,
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
    hold(method, after) {
      let release = () => undefined as void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.set(method, { after, seen: 0, released });
      return () => {
        holds.delete(method);
        release();
      };
    },
    holdAnswer(method, nth = 0) {
      let answered = () => undefined as void;
      let release = () => undefined as void;
      const answeredP = new Promise<void>((resolve) => {
        answered = resolve;
      });
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      answerHolds.set(method, { nth, seen: 0, answered, released });
      return {
        answered: answeredP,
        release: () => {
          answerHolds.delete(method);
          release();
        },
      };
    },
    settled: async () => {
      // A delivery may queue another while we wait; loop until the chain stops growing.
      let seen: Promise<void> | null = null;
      while (seen !== delivery) {
        seen = delivery;
        await seen;
      }
    },
    async close() {
      stopped = true;
      if (retry) clearTimeout(retry);
      await stream?.close();
      await delivery;
    },
  };
}
