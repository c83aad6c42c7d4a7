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
  constructor(
    readonly base: string,
    private readonly token: string,
  ) {}

  async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AgentAnswer> {
    const res = await fetch(this.base + path, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`OpenExec answered HTTP ${res.status} with something that is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`OpenExec answered HTTP ${res.status} with no object`);
    return { status: res.status, body: parsed as Record<string, unknown> };
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
