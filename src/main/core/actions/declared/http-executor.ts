import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { JsonObject, JsonValue } from '../../json/json-value.ts';
import { canonicalJson } from '../../json/canonical.ts';
import { HandlerInputError } from '../action-registry.ts';
import { render, renderJson, type Template } from './template.ts';

export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
export const MAX_REDIRECTS = 5;
/** The response headers a result carries; nothing else (cookies, for one) reaches a receipt. */
export const RESULT_HEADERS = ['content-type', 'content-length', 'location', 'etag', 'last-modified', 'retry-after'] as const;

/** A header value: a template, or a secret read at request time and never written anywhere. */
export type HeaderSource = { template: Template } | { env: string } | { file: string };

export interface HttpSpec {
  method: string;
  url: Template;
  /** `host` (on the scheme's default port) or `host:port`, lower case. */
  allowedHosts: ReadonlySet<string>;
  headers: Readonly<Record<string, HeaderSource>>;
  body: JsonValue | undefined;
  timeoutMs: number;
  maxResponseBytes: number;
  /** Where `{file: name}` secrets live. */
  dataDir: string;
  /** Where `{env: NAME}` secrets are read, at request time. */
  env: Readonly<Record<string, string | undefined>>;
}

const DEFAULT_PORTS: Record<string, string> = { 'http:': '80', 'https:': '443' };

/** `host:port` of a URL with the port made explicit (IPv6 hosts keep their brackets). */
export function hostPort(url: URL): string {
  return `${url.hostname.toLowerCase()}:${url.port || DEFAULT_PORTS[url.protocol] || ''}`;
}

/** An `allowed_hosts` entry without a port allows that host on its scheme's default port only. */
function hostAllowed(allowed: ReadonlySet<string>, url: URL): boolean {
  if (allowed.has(hostPort(url))) return true;
  return url.port === '' && allowed.has(url.hostname.toLowerCase());
}

/** `.` or `..`, also percent-encoded: a path segment the URL parser removes, with the one before it for `..`. */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;

/**
 * Whether the rendered URL's path holds a dot segment. encodeURIComponent leaves '.' as it is,
 * so a field of `..` would otherwise move the request up the path (`/jobs/{id}/status` to
 * `/status`); '/', '\\', '?' and '#' from a field are encoded, so only the template places them.
 */
function hasDotSegment(text: string): boolean {
  const path = text.replace(/^[A-Za-z][A-Za-z0-9+.-]*:[/\\]*[^/\\?#]*/, '').split(/[?#]/, 1)[0]!;
  return path.split(/[/\\]/).some((segment) => DOT_SEGMENT.test(segment));
}

/** The URL this payload gives: fields URL-encoded, scheme http(s), host one of allowed_hosts. */
export function renderUrl(spec: HttpSpec, payload: JsonObject): URL {
  const text = render(spec.url, payload, encodeURIComponent);
  if (hasDotSegment(text)) throw new HandlerInputError('url: a field makes a dot segment (. or ..) of the path');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new HandlerInputError(`url: '${text}' is not a URL`);
  }
  checkUrl(spec, url);
  return url;
}

function checkUrl(spec: HttpSpec, url: URL): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new HandlerInputError(`url: scheme ${url.protocol} is not http or https`);
  if (url.username !== '' || url.password !== '') throw new HandlerInputError('url: credentials in the URL are refused');
  if (!hostAllowed(spec.allowedHosts, url)) throw new HandlerInputError(`url: host ${url.host} is not in allowed_hosts`);
}

async function headerValue(spec: HttpSpec, name: string, source: HeaderSource, payload: JsonObject): Promise<string> {
  if ('template' in source) return render(source.template, payload);
  if ('env' in source) {
    const v = spec.env[source.env];
    if (v === undefined) throw new Error(`header ${name}: environment variable ${source.env} is not set`);
    return v;
  }
  try {
    return (await readFile(join(spec.dataDir, source.file), 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    throw new Error(`header ${name}: cannot read ${source.file} in the data directory (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

async function readCapped(res: Response, cap: number): Promise<{ body: string; truncated: boolean }> {
  if (!res.body) return { body: '', truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = cap - size;
    if (value.length > room) {
      chunks.push(value.subarray(0, room));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.length;
  }
  return { body: Buffer.concat(chunks).toString('utf8'), truncated };
}

/**
 * One HTTP exchange. Redirects are followed by us, not by fetch, and only to the same host
 * and port (bounded); anything else, or a timeout over the whole exchange, fails it.
 */
export async function callHttp(spec: HttpSpec, payload: JsonObject): Promise<JsonValue> {
  let url = renderUrl(spec, payload);
  const origin = hostPort(url);
  const headers = new Headers();
  for (const [name, source] of Object.entries(spec.headers)) {
    const value = await headerValue(spec, name, source, payload);
    // A line break or NUL from a field would let it add headers of its own: refused, never sent.
    if (/[\r\n\0]/.test(value)) throw new HandlerInputError(`headers.${name}: a value with a line break or NUL is refused`);
    headers.set(name, value);
  }
  let method = spec.method;
  let body: string | undefined;
  if (spec.body !== undefined) {
    body = canonicalJson(renderJson(spec.body, payload));
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  }
  const signal = AbortSignal.timeout(spec.timeoutMs);
  try {
    for (let hops = 0; ; hops++) {
      const res = await fetch(url, { method, headers, body, redirect: 'manual', signal });
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location !== null) {
        await res.body?.cancel();
        if (hops >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(location, url);
        if (hostPort(next) !== origin || next.protocol !== url.protocol) {
          throw new Error(`redirect to another host (${next.host}) not followed`);
        }
        checkUrl(spec, next);
        // As browsers do: 303 (and 301/302 after anything but GET/HEAD) continue as a GET.
        if (res.status === 303 || ((res.status === 301 || res.status === 302) && method !== 'GET' && method !== 'HEAD')) {
          method = 'GET';
          body = undefined;
          headers.delete('content-type');
        }
        url = next;
        continue;
      }
      const { body: text, truncated } = await readCapped(res, spec.maxResponseBytes);
      const result = Object.create(null) as JsonObject;
      const picked = Object.create(null) as JsonObject;
      for (const h of RESULT_HEADERS) {
        const v = res.headers.get(h);
        if (v !== null) picked[h] = v;
      }
      result['status'] = BigInt(res.status);
      result['headers'] = picked;
      result['body'] = text;
      result['truncated'] = truncated;
      return result;
    }
  } catch (err) {
    if (signal.aborted) throw new Error(`timed out after ${spec.timeoutMs} ms`);
    if (err instanceof HandlerInputError) throw err;
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(cause ? `${(err as Error).message} (${cause})` : (err as Error).message);
  }
}
