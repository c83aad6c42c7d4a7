/**
 * One POST to the running server, over http or https. Over https the CLI trusts exactly the
 * certificate in OPENEXEC_TLS_CERT: it is the only CA of the connection, and the certificate
 * presented must be that one (a pin, instead of the name check, which an IP address or
 * 0.0.0.0 in server.json could not pass). Nothing else's verification is changed.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readCertificate } from '../app/tls-files.ts';
import { isCertificateError, pinnedTlsOptions, type TlsPin } from '../mcp/pinned-tls.ts';

export interface TlsTrust extends TlsPin {
  certFile: string;
}

/** OPENEXEC_TLS_CERT as the CLI's only trust anchor, or null when it is unset. */
export function tlsTrustOf(certFile: string | null): TlsTrust | null {
  if (certFile === null) return null;
  const { pem, leaf } = readCertificate(certFile);
  return { certFile, ca: pem, fingerprint256: leaf.fingerprint256 };
}

/** Why a request failed: the server said nothing in time, its certificate is not ours, or no answer at all. */
export class TransportError extends Error {
  constructor(
    readonly kind: 'timeout' | 'untrusted' | 'unreachable',
    message: string,
  ) {
    super(message);
  }
}

export function postJson(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
  options: { trust: TlsPin | null; timeoutMs?: number },
): Promise<{ status: number; text: string }> {
  const target = new URL(url);
  const common = {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
    agent: false as const,
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs }),
  };
  return new Promise((resolve, reject) => {
    const onResponse = (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      res.on('error', (err) => reject(new TransportError('unreachable', err.message)));
    };
    let req;
    if (target.protocol === 'https:') {
      const trust = options.trust;
      if (trust === null) return reject(new TransportError('untrusted', 'no certificate to trust (OPENEXEC_TLS_CERT is not set)'));
      req = httpsRequest(target, { ...common, ...pinnedTlsOptions(trust) }, onResponse);
    } else {
      req = httpRequest(target, common, onResponse);
    }
    req.on('timeout', () => req.destroy(new TransportError('timeout', 'timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof TransportError) return reject(err);
      const untrusted = isCertificateError(err);
      reject(new TransportError(untrusted ? 'untrusted' : 'unreachable', err.code ?? err.message));
    });
    req.end(body);
  });
}
