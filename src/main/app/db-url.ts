/**
 * OPENEXEC_DB_URL beyond `sqlite:`. A PostgreSQL URL may carry a password (in its user part or
 * as `?password=`), so it is only ever shown through redactDbUrl().
 */
import { ConfigError } from './config.ts';

const POSTGRES_SCHEMES = new Set(['postgres', 'postgresql']);
/** libpq's sslmode values. */
const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
/** Query parameters libpq reads secrets from. */
const SECRET_PARAMS = ['password', 'sslpassword'];
const HIDDEN = 'redacted';

function schemeOf(url: string): string | null {
  return /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? null;
}

export function isPostgresUrl(url: string): boolean {
  const scheme = schemeOf(url);
  return scheme !== null && POSTGRES_SCHEMES.has(scheme);
}

/**
 * The URL fit to print: any password (user part or query) replaced. A URL that does not parse
 * cannot be split safely, so only its scheme is shown.
 */
export function redactDbUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    const scheme = schemeOf(url);
    return scheme === null ? '(not a URL, not shown)' : `${scheme}://… (not a valid URL, not shown)`;
  }
  if (parsed.password !== '') parsed.password = HIDDEN;
  for (const name of SECRET_PARAMS) {
    if (parsed.searchParams.has(name)) parsed.searchParams.set(name, HIDDEN);
  }
  return parsed.href;
}

function fail(problem: string): never {
  throw new ConfigError(`OPENEXEC_DB_URL: ${problem}`);
}

/**
 * Checks a `postgresql://user:password@host:port/db?sslmode=…` URL's syntax; every message
 * names the URL in its redacted form only.
 */
export function checkPostgresUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    fail(`${redactDbUrl(url)} is not a valid URL (percent-encode special characters in the user name and password)`);
  }
  const shown = redactDbUrl(url);
  try {
    decodeURIComponent(parsed.username);
    decodeURIComponent(parsed.password);
  } catch {
    fail(`${shown}: the user name or password is not valid percent-encoding`);
  }
  if (parsed.hostname === '' && !parsed.searchParams.has('host')) fail(`${shown} names no host`);
  if (parsed.pathname.replace(/^\//, '').includes('/')) fail(`${shown}: the database name is one path segment`);
  const modes = parsed.searchParams.getAll('sslmode');
  if (modes.length > 1) fail(`${shown}: sslmode is given ${modes.length} times`);
  const mode = modes[0];
  if (mode !== undefined && !(SSL_MODES as readonly string[]).includes(mode)) {
    fail(`${shown}: sslmode must be one of ${SSL_MODES.join(', ')}, got '${mode}'`);
  }
}
