import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ConsoleApi, ConsoleMethod } from '../../shared/console-api.ts';
import { CONSOLE_TOKEN_FILE } from '../app/console-token.ts';
import { CliError } from './cli-error.ts';
import { CHALLENGE_PATH, consoleTokenProof } from '../api/console-challenge.ts';
import { findRunningServer, type ServerTrust } from './running-server.ts';
import { postJson, TransportError, type TlsTrust } from './server-transport.ts';

/** Long enough for a loaded machine; a server that says nothing for this long is not ours. */
const CHALLENGE_TIMEOUT_MS = 10_000;

type Value<M extends ConsoleMethod> = Awaited<ReturnType<ConsoleApi[M]>> extends { ok: true; value: infer V } | { ok: false } ? V : never;

/**
 * The console contract over /console/* of the running server found in the data directory.
 * The console token goes only to the process server.json names, only while that process is
 * alive and holds the data directory's lock, and only after the server at the address has
 * proved (a challenge, below) that it knows the token.
 */
export class ConsoleClient {
  private proven: Promise<void> | null = null;

  private constructor(
    readonly address: string,
    private readonly pid: number,
    private readonly token: string,
    private readonly infoFile: string,
    private readonly trust: TlsTrust | null,
  ) {}

  /** `config.host` (OPENEXEC_HOST) is the one non-loopback host the token may be sent to. */
  static fromDataDir(dataDir: string, config: ServerTrust): ConsoleClient {
    const { address, pid, infoFile, trust } = findRunningServer(dataDir, config);
    let token: string;
    try {
      token = readFileSync(join(dataDir, CONSOLE_TOKEN_FILE), 'utf8').trim();
    } catch (err) {
      throw new CliError(`cannot read the console token in ${dataDir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    return new ConsoleClient(address, pid, token, infoFile, trust);
  }

  /**
   * The server must show it knows the token before it is sent: it answers a fresh random
   * nonce with an HMAC keyed by the token (bound to the address and pid we expect), which we
   * compare in constant time. Nothing that crosses the wire here reveals the token.
   */
  private async prove(): Promise<void> {
    const nonce = randomBytes(32).toString('base64url');
    const who = `the server at ${this.address} (from ${this.infoFile})`;
    let res: { status: number; text: string };
    try {
      res = await postJson(
        `${this.address}${CHALLENGE_PATH}`,
        JSON.stringify({ nonce }),
        {},
        { trust: this.trust, timeoutMs: CHALLENGE_TIMEOUT_MS },
      );
    } catch (err) {
      throw this.transportFailure(err, who);
    }
    let proof: unknown = null;
    try {
      proof = (JSON.parse(res.text) as { proof?: unknown }).proof;
    } catch {
      // not JSON (or cut off): no proof
    }
    const expected = Buffer.from(consoleTokenProof(this.token, { address: this.address, pid: this.pid }, nonce), 'base64url');
    const got = res.status === 200 && typeof proof === 'string' ? Buffer.from(proof, 'base64url') : Buffer.alloc(0);
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      throw new CliError(`${who} could not prove it knows the console token; refusing to send it`);
    }
  }

  private transportFailure(err: unknown, who: string): CliError {
    if (err instanceof TransportError && err.kind === 'timeout') {
      return new CliError(`${who} did not answer the token challenge; refusing to send the console token`);
    }
    if (err instanceof TransportError && err.kind === 'untrusted') {
      return new CliError(
        `${who} did not present the certificate in OPENEXEC_TLS_CERT (${this.trust?.certFile ?? 'unset'}): ${err.message}; refusing to send the console token`,
      );
    }
    return new CliError(`cannot reach OpenExec at ${this.address} (is it running?)`);
  }

  async call<M extends ConsoleMethod>(method: M, input: Parameters<ConsoleApi[M]>[0] | Record<string, never> = {}): Promise<Value<M>> {
    await (this.proven ??= this.prove());
    let res: { status: number; text: string };
    try {
      res = await postJson(
        `${this.address}/console/${method}`,
        JSON.stringify(input ?? {}),
        { authorization: `Bearer ${this.token}` },
        { trust: this.trust },
      );
    } catch {
      throw new CliError(`cannot reach OpenExec at ${this.address} (is it running?)`);
    }
    let body: unknown;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new CliError(`unexpected answer from ${this.address} (HTTP ${res.status})`);
    }
    if (res.status < 200 || res.status > 299) {
      const detail = (body as { detail?: unknown }).detail;
      throw new CliError(typeof detail === 'string' ? detail : `HTTP ${res.status}`);
    }
    return body as Value<M>;
  }
}
