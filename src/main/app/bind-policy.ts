import { isLoopbackHost } from '../api/request-guard.ts';
import { ConfigError, type OpenExecConfig } from './config.ts';

/**
 * Beyond loopback the console token (a bearer secret), approvals and payloads cross a
 * network. A non-loopback bind needs the explicit flag, and TLS unless the operator also says
 * OPENEXEC_ALLOW_PLAINTEXT=1. Returns the warnings the bind earns; decided from the
 * configuration alone, before anything is opened.
 */
export function bindWarnings(config: OpenExecConfig, tls: boolean): string[] {
  if (isLoopbackHost(config.host)) return [];
  if (!config.allowNonLoopback) {
    throw new ConfigError(
      `OPENEXEC_HOST: ${config.host} is not a loopback address; agents elsewhere could submit executions. ` +
        'Pass --allow-non-loopback (or OPENEXEC_ALLOW_NON_LOOPBACK=1) if that is really intended',
    );
  }
  if (!tls && !config.allowPlaintext) {
    throw new ConfigError(
      `OPENEXEC_HOST: ${config.host} is not a loopback address and OPENEXEC_TLS_CERT/OPENEXEC_TLS_KEY are not set: ` +
        'the console token would cross the network unencrypted. Configure TLS, or set OPENEXEC_ALLOW_PLAINTEXT=1 as well to accept that',
    );
  }
  const reach = `the API listens on ${config.host}, which is not loopback: anyone who can reach it can submit proposals and executions`;
  if (tls) return [reach];
  return [
    reach,
    'PLAIN HTTP BEYOND LOOPBACK (OPENEXEC_ALLOW_PLAINTEXT=1): the console token, approvals and payloads cross the network unencrypted; ' +
      'anyone on the path can read the token and act as the operator',
  ];
}
