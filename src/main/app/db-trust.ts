/**
 * What pointing OpenExec at PostgreSQL means for its data, said at start-up (README,
 * "PostgreSQL"): the ledger, the proposals with their payloads and contexts, and the results
 * are kept by that server, so they leave this host when it is elsewhere, and whoever runs it
 * is trusted with them. The transport is node-postgres's reading of the URL (pg-connection-
 * string), not libpq's: without `sslmode` there is no TLS at all; `sslmode=prefer`, `require`,
 * `verify-ca` and `verify-full` all verify the certificate and the host name; `no-verify`
 * encrypts without knowing whom to.
 */
import { isLoopbackHost } from '../api/request-guard.ts';
import { describeServer } from '../core/store/postgres/pg-server-name.ts';
import { redactDbUrl } from './db-url.ts';

export type PostgresTransport =
  { kind: 'unix-socket' } | { kind: 'plain' } | { kind: 'tls-unverified' } | { kind: 'tls-verified'; ca: string | null };

export interface PostgresTrust {
  /** The start-up line. */
  line: string;
  /** Whether the server is on another host. */
  remote: boolean;
  transport: PostgresTransport;
  /** Why serving on this URL is refused unless the operator allows it (OPENEXEC_DB_ALLOW_PLAINTEXT), or null. */
  problem: string | null;
}

const VERIFYING = new Set(['allow', 'prefer', 'require', 'verify-ca', 'verify-full']);

function hostOf(u: URL): string {
  return u.hostname !== '' ? u.hostname : (u.searchParams.get('host') ?? 'localhost');
}

function transportOf(u: URL, host: string): PostgresTransport {
  if (host.startsWith('/')) return { kind: 'unix-socket' };
  const mode = u.searchParams.get('sslmode');
  const ca = u.searchParams.get('sslrootcert');
  if (mode === 'no-verify') return { kind: 'tls-unverified' };
  if (mode !== null && VERIFYING.has(mode)) return { kind: 'tls-verified', ca };
  // `ssl=true` or a certificate parameter without sslmode also turns TLS on, verified.
  if (u.searchParams.get('ssl') === 'true' || ca !== null || u.searchParams.has('sslcert')) return { kind: 'tls-verified', ca };
  return { kind: 'plain' };
}

function transportWords(t: PostgresTransport, host: string): string {
  switch (t.kind) {
    case 'unix-socket':
      return `through the Unix socket in ${host}`;
    case 'plain':
      return 'without TLS (readable and changeable on the way)';
    case 'tls-unverified':
      return 'over TLS without verifying the server (sslmode=no-verify: anyone on the way can pose as it)';
    case 'tls-verified':
      return `over TLS to a server whose certificate is verified against ${t.ca === null ? "Node's built-in CAs" : `the CA in ${t.ca}`} and whose name must be ${host}`;
  }
}

/** The start-up line and, for a remote server reached without verified TLS, why it is refused. `url` has passed checkPostgresUrl. */
export function postgresTrust(url: string): PostgresTrust {
  const u = new URL(url);
  const host = hostOf(u);
  const transport = transportOf(u, host);
  const remote = transport.kind !== 'unix-socket' && !isLoopbackHost(host);
  const where = describeServer(url);
  const line = remote
    ? `the ledger is in PostgreSQL at ${where}: receipts, proposals with their payloads and contexts, and results leave this host ` +
      `${transportWords(transport, host)}; that server and whoever administers it are trusted with them (they can read them, and ` +
      'as the database owner change them, which openexec verify-ledger detects); the receipt key stays in the data directory'
    : `the ledger is in PostgreSQL at ${where}, on this host, ${transportWords(transport, host)}: whoever administers that server ` +
      'can read receipts, proposals and results, and as the database owner change them (openexec verify-ledger detects it)';
  const problem =
    remote && transport.kind !== 'tls-verified'
      ? `${redactDbUrl(url)} would send the ledger and the database password to ${host} ${transportWords(transport, host)}: ` +
        'add sslmode=verify-full (and sslrootcert=<the CA file> for a private CA), or set OPENEXEC_DB_ALLOW_PLAINTEXT=1 on a network you trust'
      : null;
  return { line, remote, transport, problem };
}
