/**
 * HTTPS to one's own OpenExec, trusting exactly one certificate (OPENEXEC_TLS_CERT): it is the
 * only CA of the connection, and the certificate presented must be that one, by its SHA-256
 * fingerprint (a pin, instead of the name check, which an IP address could not pass). Shared by
 * the CLI's console calls and the agent commands (mcp serve, mcp proxy, hook claude-code).
 */
import { request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { PeerCertificate } from 'node:tls';

export interface TlsPin {
  /** The certificate file's PEM: the leaf, then any chain up to its root. */
  ca: string;
  fingerprint256: string;
}

export const NOT_PINNED = 'ERR_TLS_CERT_NOT_PINNED: not the certificate in OPENEXEC_TLS_CERT';

const CERT_ERRORS = /CERT|SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY|ERR_TLS_CERT_ALTNAME/;

/** Whether a connection failed because the server's certificate is not the pinned one. */
export function isCertificateError(err: NodeJS.ErrnoException): boolean {
  return CERT_ERRORS.test(`${err.code ?? ''} ${err.message}`);
}

/** A connection error, said plainly when it is the certificate (the agent commands' one line). */
export function connectionError(err: NodeJS.ErrnoException, origin: string): Error {
  return isCertificateError(err)
    ? new Error(`${origin} did not present the certificate in OPENEXEC_TLS_CERT (${err.code ?? err.message}); refusing to talk to it`)
    : err;
}

/** The TLS options that trust `pin` and nothing else (for https.request and https.Agent). */
export function pinnedTlsOptions(pin: TlsPin): {
  ca: string;
  rejectUnauthorized: true;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
} {
  return {
    ca: pin.ca,
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      cert.fingerprint256 === pin.fingerprint256 ? undefined : new Error(NOT_PINNED),
  };
}

function headersOf(raw: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/**
 * A `fetch` for https URLs that trusts only `pin`, streaming the answer (MCP's streamable HTTP
 * sends server-sent events on it). Request bodies are text, as the MCP client sends them;
 * anything else is refused rather than sent some other way.
 */
export function pinnedFetch(pin: TlsPin): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== 'https:') return reject(new TypeError(`pinned fetch is for https only, not ${target.protocol}`));
      if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') {
        return reject(new TypeError('pinned fetch sends text bodies only'));
      }
      const body = init.body ?? null;
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, name) => (headers[name] = value));
      if (body !== null) headers['content-length'] = String(Buffer.byteLength(body));
      const signal = init.signal ?? null;
      if (signal?.aborted) return reject(signal.reason);
      const req = httpsRequest(target, { method: init.method ?? 'GET', headers, agent: false, ...pinnedTlsOptions(pin) }, (res) => {
        const status = res.statusCode ?? 0;
        // A Response may not carry a body for these statuses.
        const empty = status === 204 || status === 205 || status === 304 || init.method === 'HEAD';
        if (empty) res.resume();
        resolve(
          new Response(empty ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
            status,
            statusText: res.statusMessage ?? '',
            headers: headersOf(res.headers),
          }),
        );
      });
      signal?.addEventListener('abort', () => req.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted')), {
        once: true,
      });
      req.on('error', (err) => reject(connectionError(err, target.origin)));
      req.end(body ?? undefined);
    });
}
