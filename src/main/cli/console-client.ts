import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleApi, ConsoleMethod } from '../../shared/console-api.ts';
import { SERVER_INFO_FILE } from '../app/openexec-app.ts';
import { CONSOLE_TOKEN_FILE } from '../app/console-token.ts';
import { CliError } from './cli-error.ts';
import { isLoopbackHost } from '../api/request-guard.ts';

type Value<M extends ConsoleMethod> = Awaited<ReturnType<ConsoleApi[M]>> extends { ok: true; value: infer V } | { ok: false } ? V : never;

/** The console contract over /console/* of the running server found in the data directory. */
export class ConsoleClient {
  private constructor(
    readonly address: string,
    private readonly token: string,
  ) {}

  /** `configuredHost` (OPENEXEC_HOST) is the one non-loopback host the token may be sent to. */
  static fromDataDir(dataDir: string, configuredHost: string): ConsoleClient {
    let address: string;
    try {
      const info = JSON.parse(readFileSync(join(dataDir, SERVER_INFO_FILE), 'utf8')) as { address?: unknown };
      if (typeof info.address !== 'string') throw new Error('no address');
      address = info.address;
    } catch {
      throw new CliError(`no running OpenExec found in ${dataDir} (start it with 'npm run serve', or set OPENEXEC_DATA_DIR)`);
    }
    let host: string;
    try {
      host = new URL(address).hostname.replace(/^\[|\]$/g, '');
    } catch {
      throw new CliError(`${join(dataDir, SERVER_INFO_FILE)} does not hold a server address`);
    }
    // The token must never be sent to an address someone else wrote into server.json.
    if (!isLoopbackHost(host) && host !== configuredHost) {
      throw new CliError(`${join(dataDir, SERVER_INFO_FILE)} points at ${address}, which is neither loopback nor OPENEXEC_HOST; refusing to send the console token there`);
    }
    let token: string;
    try {
      token = readFileSync(join(dataDir, CONSOLE_TOKEN_FILE), 'utf8').trim();
    } catch (err) {
      throw new CliError(`cannot read the console token in ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return new ConsoleClient(address, token);
  }

  async call<M extends ConsoleMethod>(method: M, input: Parameters<ConsoleApi[M]>[0] | Record<string, never> = {}): Promise<Value<M>> {
    let res: Response;
    try {
      res = await fetch(`${this.address}/console/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
        body: JSON.stringify(input ?? {}),
      });
    } catch {
      throw new CliError(`cannot reach OpenExec at ${this.address} (is it running?)`);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new CliError(`unexpected answer from ${this.address} (HTTP ${res.status})`);
    }
    if (!res.ok) {
      const detail = (body as { detail?: unknown }).detail;
      throw new CliError(typeof detail === 'string' ? detail : `HTTP ${res.status}`);
    }
    return body as Value<M>;
  }
}
