import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SERVER_INFO_FILE } from '../app/server-info.ts';
import { LOCK_FILE } from '../app/data-dir-lock.ts';
import { isLoopbackHost } from '../api/request-guard.ts';
import { CliError } from './cli-error.ts';
import { tlsTrustOf, type TlsTrust } from './server-transport.ts';
import type { OpenExecConfig } from '../app/config.ts';

/** What decides where the token may go: OPENEXEC_HOST, OPENEXEC_TLS_CERT, OPENEXEC_ALLOW_PLAINTEXT. */
export type ServerTrust = Pick<OpenExecConfig, 'host' | 'tlsCertFile' | 'allowPlaintext'>;

/** server.json as the server writes it (src/main/app/openexec-app.ts). */
const serverInfo = z.object({ address: z.string(), pid: z.int().positive().optional() });

function pidState(pid: number): 'alive' | 'gone' | 'foreign' {
  try {
    process.kill(pid, 0);
    return 'alive';
  } catch (err) {
    // EPERM: a process of another user, which cannot be the owner of our data directory.
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? 'foreign' : 'gone';
  }
}

function lockHolder(lockFile: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lockFile, 'utf8'), 10);
    return Number.isInteger(pid) ? pid : null;
  } catch {
    return null;
  }
}

export interface RunningServer {
  address: string;
  pid: number;
  /** server.json, named in every error about it. */
  infoFile: string;
  /** For an https address: the one certificate the server must present. */
  trust: TlsTrust | null;
}

/**
 * The server recorded in the data directory's server.json, if the console token may be sent
 * there at all: a loopback address (or OPENEXEC_HOST), and a process that is alive and holds
 * the data directory's lock. A crashed server leaves server.json behind, and its port (or,
 * later, its pid) may have a new owner; the token challenge covers what these checks cannot.
 */
export function findRunningServer(dataDir: string, config: ServerTrust): RunningServer {
  const infoFile = join(dataDir, SERVER_INFO_FILE);
  let text: string;
  try {
    text = readFileSync(infoFile, 'utf8');
  } catch {
    throw new CliError(`no running OpenExec found in ${dataDir} (start it with 'npm run serve', or set OPENEXEC_DATA_DIR)`);
  }
  let info: z.infer<typeof serverInfo>;
  let host: string;
  let scheme: string;
  try {
    info = serverInfo.parse(JSON.parse(text));
    const url = new URL(info.address);
    host = url.hostname.replace(/^\[|\]$/g, '');
    scheme = url.protocol;
  } catch {
    throw new CliError(`${infoFile} does not hold a server address`);
  }
  const { address, pid } = info;
  if (scheme !== 'http:' && scheme !== 'https:') throw new CliError(`${infoFile} does not hold a server address`);
  // The token must never be sent to an address someone else wrote into server.json.
  if (!isLoopbackHost(host) && host !== config.host) {
    throw new CliError(
      `${infoFile} points at ${address}, which is neither loopback nor OPENEXEC_HOST; refusing to send the console token there`,
    );
  }
  if (scheme === 'http:' && !isLoopbackHost(host) && !config.allowPlaintext) {
    throw new CliError(
      `${infoFile} points at ${address}, plain HTTP beyond loopback; refusing to send the console token unencrypted (OPENEXEC_ALLOW_PLAINTEXT=1 accepts that)`,
    );
  }
  const trust = scheme === 'https:' ? tlsTrustOf(config.tlsCertFile) : null;
  if (scheme === 'https:' && trust === null) {
    throw new CliError(
      `${infoFile} points at ${address}, served over TLS: set OPENEXEC_TLS_CERT to its certificate so the CLI can check it is that server`,
    );
  }
  if (pid === undefined)
    throw new CliError(`${infoFile} does not name the server's process; restart OpenExec so that it writes a current one`);
  const state = pidState(pid);
  if (state === 'gone') {
    throw new CliError(
      `${infoFile} names pid ${pid}, which is not running: the OpenExec at ${address} did not stop cleanly; start it again`,
    );
  }
  if (state === 'foreign') {
    throw new CliError(
      `${infoFile} names pid ${pid}, a process of another user: it is not the OpenExec at ${address}; refusing to send the console token`,
    );
  }
  const lockFile = join(dataDir, LOCK_FILE);
  const holder = lockHolder(lockFile);
  if (holder !== pid) {
    throw new CliError(
      `${infoFile} names pid ${pid}, which does not hold ${lockFile} (${holder === null ? 'nobody does' : `pid ${holder} does`}): it is not the OpenExec at ${address}; refusing to send the console token`,
    );
  }
  return { address, pid, infoFile, trust };
}
