import { isIP } from 'node:net';
import type { RefusalCode } from '../../shared/error-codes.ts';

/** 127.0.0.0/8, ::1 and the name localhost: the only places an agent may call from. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** The host part of a Host header value (`name:port`, `[v6]:port`). */
export function hostHeaderName(value: string): string | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\[\]]+)(?::\d{1,5})?$/.exec(value.trim());
  return m ? m[1]!.replace(/^\[|\]$/g, '') : null;
}

export type GuardVerdict = { ok: true } | { ok: false; code: RefusalCode; detail: string };

/**
 * Refuses what a web page could send: a foreign Host (DNS rebinding) or any Origin header
 * (a browser page must never drive this API; agents and the CLI send none).
 */
export function checkRequestOrigin(
  headers: { host?: string | undefined; origin?: string | undefined },
  extraHosts: readonly string[],
): GuardVerdict {
  const raw = headers.host;
  if (raw === undefined || raw === '') return { ok: false, code: 'bad_request', detail: 'Host header is required' };
  const name = hostHeaderName(raw);
  if (name === null || !(isLoopbackHost(name) || extraHosts.includes(name.toLowerCase()))) {
    return { ok: false, code: 'foreign_origin', detail: `Host '${raw}' is not a loopback address: request refused` };
  }
  if (headers.origin !== undefined) {
    return { ok: false, code: 'foreign_origin', detail: 'Requests from web pages are refused (Origin header present)' };
  }
  return { ok: true };
}
