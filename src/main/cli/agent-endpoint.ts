import { isLoopbackHost } from '../api/request-guard.ts';
import type { TlsPin } from '../mcp/pinned-tls.ts';
import { findRunningServer, type ServerTrust } from './running-server.ts';
import { tlsTrustOf } from './server-transport.ts';
import { CliError } from './cli-error.ts';

/** Where agent commands reach OpenExec: its origin, and for https the one certificate it must present. */
export interface AgentEndpoint {
  base: string;
  tls: TlsPin | null;
}

/**
 * OPENEXEC_URL, else the running server recorded in the data directory. Plain HTTP only on
 * loopback; HTTPS on loopback or OPENEXEC_HOST, and only pinned to OPENEXEC_TLS_CERT, as the
 * other CLI commands do: without it they fail closed rather than go unpinned.
 */
export function agentEndpoint(env: NodeJS.ProcessEnv, dataDir: string, trust: ServerTrust): AgentEndpoint {
  const url = env['OPENEXEC_URL']?.trim();
  if (!url) {
    const found = findRunningServer(dataDir, trust);
    return { base: found.address, tls: found.trust };
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`OPENEXEC_URL: '${url}' is not a URL`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (parsed.protocol === 'http:' && isLoopbackHost(host)) return { base: parsed.origin, tls: null };
  if (parsed.protocol === 'https:' && (isLoopbackHost(host) || host === trust.host)) {
    const tls = tlsTrustOf(trust.tlsCertFile);
    if (tls === null) throw new CliError(`OPENEXEC_URL: ${url} is served over TLS: set OPENEXEC_TLS_CERT to its certificate`);
    return { base: parsed.origin, tls };
  }
  throw new CliError(`OPENEXEC_URL: must be http:// on a loopback address, or https:// on loopback or OPENEXEC_HOST, got '${url}'`);
}

/** OPENEXEC_AGENT_TOKEN, which agent commands act as. */
export function agentToken(env: NodeJS.ProcessEnv): string {
  const token = env['OPENEXEC_AGENT_TOKEN']?.trim();
  if (!token) throw new CliError('OPENEXEC_AGENT_TOKEN: required (the token `openexec agents add NAME` printed)');
  return token;
}
