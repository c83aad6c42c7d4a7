/**
 * HTTP spoken by hand over net.connect to 127.0.0.1: for clients that misbehave on purpose
 * (never read, send one byte a second) and for counting exactly what a server sent.
 */
import { connect, type Socket } from 'node:net';
import { afterEach } from 'vitest';
import { startServer, type RunningServer } from './harness.ts';

export interface RawConnection {
  socket: Socket;
  /** Everything received so far (only once `read()` has been called). */
  text(): string;
  /** Starts reading; until then the socket is left unread, as an idle client leaves it. */
  read(): void;
  /** Resolves when the connection has closed, for whatever reason. */
  closed: Promise<void>;
}

/** Connects to `url`'s port on 127.0.0.1 and writes `head` (if given) at once. */
export function rawConnect(url: string, head?: string): Promise<RawConnection> {
  const port = Number(new URL(url).port);
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let received = '';
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('error', () => undefined);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      if (head !== undefined) socket.write(head);
      resolve({
        socket,
        text: () => received,
        read: () => {
          socket.setEncoding('utf8');
          socket.on('data', (chunk: string) => (received += chunk));
        },
        closed,
      });
    });
  });
}

/** A GET request head (HTTP/1.1, keep-alive), with extra header lines. */
export function getHead(path: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`);
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines.join('')}\r\n`;
}

/** SSE event names in the order they appear in `text` (comments and partial frames ignored). */
export function sseEventNames(text: string): string[] {
  return [...text.matchAll(/^event: (.+)$/gm)].map((m) => m[1]!);
}

/** Raw connections opened by one test file; `destroyAll()` in its afterEach. */
export class RawClients {
  private readonly open: RawConnection[] = [];

  /** Connects (see rawConnect); `read` starts reading straight away. */
  async connect(url: string, head?: string, read = true): Promise<RawConnection> {
    const c = await rawConnect(url, head);
    this.open.push(c);
    if (read) c.read();
    return c;
  }

  destroyAll(): void {
    for (const c of this.open.splice(0)) c.socket.destroy();
  }
}

/** Resolves once `c` has received text matching `pattern` (it must be reading). */
export async function received(c: RawConnection, pattern: RegExp): Promise<void> {
  while (!pattern.test(c.text())) {
    if (c.socket.destroyed) throw new Error(`connection closed before ${pattern} arrived; got ${JSON.stringify(c.text().slice(0, 200))}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * For a describe block: `start(env)` gives each test its own server; it and every raw
 * client are torn down after each test.
 */
export function serverPerTest(): { start(env?: Record<string, string>): Promise<RunningServer>; clients: RawClients } {
  const clients = new RawClients();
  let server: RunningServer | null = null;
  afterEach(async () => {
    clients.destroyAll();
    await server?.stop();
    server = null;
  });
  return {
    clients,
    start: async (env = {}) => (server = await startServer(env)),
  };
}
