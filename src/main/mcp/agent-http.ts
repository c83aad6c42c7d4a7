import { Agent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connectionError, pinnedTlsOptions, type TlsPin } from './pinned-tls.ts';
import { Refusal } from '../core/errors.ts';
import { REFUSAL_CODES, type RefusalCode } from '../../shared/error-codes.ts';

/** An answer of the agent API: its status and parsed JSON body. */
export interface AgentAnswer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * The running OpenExec's agent API, as one agent (its token on every request). Any failure to
 * get a JSON answer throws; a refusal keeps its `detail`.
 */
export class AgentHttp {
  /** Kept-alive connections without Nagle: each call is two small round trips. */
  private readonly agent: Agent;
  private readonly send1: typeof httpRequest;

  /** `tls`: for an https base, the one certificate the server must present (pinned-tls.ts). */
  constructor(
    readonly base: string,
    private readonly token: string,
    tls: TlsPin | null = null,
  ) {
    const https = new URL(base).protocol === 'https:';
    if (https && tls === null) throw new Error(`${base} is https: a pinned certificate is required`);
    const keep = { keepAlive: true, maxSockets: 4, noDelay: true };
    this.agent = https && tls !== null ? new HttpsAgent({ ...keep, ...pinnedTlsOptions(tls) }) : new Agent(keep);
    this.send1 = https ? httpsRequest : httpRequest;
  }

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AgentAnswer> {
    const { status, text } = await this.send(method, path, body === undefined ? null : JSON.stringify(body));
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`OpenExec answered HTTP ${status} with something that is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`OpenExec answered HTTP ${status} with no object`);
    return { status, body: parsed as Record<string, unknown> };
  }

  private send(method: string, path: string, body: string | null): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.base);
    return new Promise((resolve, reject) => {
      const req = this.send1(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            authorization: `Bearer ${this.token}`,
            ...(body === null ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', (err) => reject(connectionError(err, url.origin)));
      req.end(body ?? undefined);
    });
  }

  /** Ends the kept-alive connections (the process can then exit). */
  close(): void {
    this.agent.destroy();
  }

  /** A 2xx answer's body; anything else becomes the refusal it was. */
  async expectOk(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AgentAnswer> {
    const answer = await this.request(method, path, body);
    if (answer.status >= 200 && answer.status < 300) return answer;
    const detail = typeof answer.body['detail'] === 'string' ? answer.body['detail'] : `HTTP ${answer.status}`;
    throw new Refusal(codeOf(answer), detail);
  }
}

/** The answer's own `code` when it names one of ours; otherwise by status class. */
function codeOf(answer: AgentAnswer): RefusalCode {
  const code = answer.body['code'];
  if (typeof code === 'string' && (REFUSAL_CODES as readonly string[]).includes(code)) return code as RefusalCode;
  if (answer.status === 401) return 'unauthorized';
  if (answer.status === 404) return 'not_found';
  return answer.status >= 500 ? 'unavailable' : 'invalid_request';
}
