import { STATUS_CODES, type ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';

export interface ConnectionLimits {
  /** A request's headers and body must have arrived this long (ms) after its first byte. */
  requestTimeoutMs: number;
  /** Connections open at once; one accepted beyond this is closed straight away. */
  maxConnections: number;
}

/**
 * Node's own request timer (checked every `connectionsCheckingInterval`) cuts a slow sender
 * with 408; it covers only the time until a request has fully arrived, so a long-lived SSE
 * response or a `?wait=` long-poll is never cut by it. A connection that sends nothing at
 * all is cut by the same timer.
 */
export function requestTimeoutOptions(limits: ConnectionLimits): { requestTimeout: number; http: ServerOptions } {
  const ms = limits.requestTimeoutMs;
  return {
    requestTimeout: ms,
    http: { requestTimeout: ms, headersTimeout: ms, connectionsCheckingInterval: Math.min(1000, Math.max(50, Math.floor(ms / 4))) },
  };
}

function clientErrorAnswer(err: NodeJS.ErrnoException, limits: ConnectionLimits): [number, string] {
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return [408, `The request did not arrive within ${limits.requestTimeoutMs / 1000} s (OPENEXEC_REQUEST_TIMEOUT)`];
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') return [431, 'Request headers are too large'];
  return [400, 'Malformed HTTP request'];
}

/** Errors before a request reached fastify (timeouts, bad framing) answered as `{detail}` like every other error. */
export function clientErrorHandler(limits: ConnectionLimits) {
  return (err: NodeJS.ErrnoException, socket: Duplex): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    if (socket.writable) {
      const [status, detail] = clientErrorAnswer(err, limits);
      const body = JSON.stringify({ detail });
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy(err);
  };
}
