import { isLoopbackHost } from '../api/request-guard.ts';
import { findRunningServer, type ServerTrust } from './running-server.ts';
import { CliError } from './cli-error.ts';

/** OPENEXEC_URL (loopback only), else the running server recorded in the data directory. */
export function agentApiBase(env: NodeJS.ProcessEnv, dataDir: string, trust: ServerTrust): string {
  const url = env['OPENEXEC_URL']?.trim();
  if (!url) {
    const { address } = findRunningServer(dataDir, trust);
    // Agent commands speak plain HTTP on loopback; they fail closed rather than go unpinned.
    if (!address.startsWith('http://')) {
      throw new CliError(`the running OpenExec serves ${address}; agent commands (mcp, hook) support plain loopback HTTP only`);
    }
    return address;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new CliError(`OPENEXEC_URL: '${url}' is not a URL`);
  }
  if (parsed.protocol !== 'http:' || !isLoopbackHost(parsed.hostname)) {
    throw new CliError(`OPENEXEC_URL: must be http:// on a loopback address, got '${url}'`);
  }
  return parsed.origin;
}

/** OPENEXEC_AGENT_TOKEN, which agent commands act as. */
export function agentToken(env: NodeJS.ProcessEnv): string {
  const token = env['OPENEXEC_AGENT_TOKEN']?.trim();
  if (!token) throw new CliError('OPENEXEC_AGENT_TOKEN: required (the token `openexec agents add NAME` printed)');
  return token;
}
