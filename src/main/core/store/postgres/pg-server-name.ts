// Without the driver: the CLI names a server in messages without loading `pg`.

/**
 * Who and where a PostgreSQL URL points at, fit to print: `user@host:port/database`. Built
 * from the parsed URL's parts, so no password (in the user part or the query) can reach it.
 */
export function describeServer(url: string): string {
  try {
    const u = new URL(url);
    const user = u.username === '' ? '' : `${decodeURIComponent(u.username)}@`;
    const host = u.hostname === '' ? (u.searchParams.get('host') ?? '(default host)') : u.hostname;
    return `${user}${host}:${u.port === '' ? '5432' : u.port}${u.pathname}`;
  } catch {
    return 'the PostgreSQL server (its URL does not parse, so it is not shown)';
  }
}
