import { randomUUID } from 'node:crypto';

/** A proposal as the agent API answers it (`POST /proposals`, `GET /proposals/{id}`). */
export interface Proposal {
  id: string;
  status: 'pending' | 'executed' | 'denied' | 'expired' | 'failed';
  action: string;
  request_hash: string;
  action_def_hash: string | null;
  created_at: string;
  expires_at: string;
  decided_at: string | null;
  /** Why it was denied, expired or failed: the operator's words, or OpenExec's. */
  reason: string | null;
  /** The action's result once executed (JSON; integers beyond 2^53 lose precision here). */
  result: unknown;
  exec_id: string | null;
  /** The protocol §3 receipt of the execution. */
  receipt: string | null;
  receipt_seq: number | null;
}

/** `POST /execute`'s answer. */
export interface Execution {
  id: string;
  action: string;
  result: unknown;
  approved: boolean;
  receipt: string;
}

/** A ClawShield-v1 approval artifact (see clawshield-artifact.ts). */
export interface ApprovalArtifact {
  approval_id: string;
  tenant_id: string;
  action_hash: string;
  issued_at: string;
  expires_at: string;
  signature: string;
}

/** OpenExec refused (status and its `detail`), or could not be reached (status 0). */
export class OpenExecError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(status === 0 ? detail : `OpenExec refused (HTTP ${status}): ${detail}`);
    this.name = 'OpenExecError';
  }
}

export interface ClientOptions {
  /** Default `http://127.0.0.1:5000`. */
  url?: string;
  /** The agent's token (`openexec agents add NAME`); sent as `Authorization: Bearer`. */
  token?: string;
}

export interface ProposeInput {
  action: string;
  payload?: Record<string, unknown>;
  /** One per request; a fresh UUID when omitted. Re-sending the same nonce returns the same proposal. */
  nonce?: string;
  ttlSeconds?: number;
  /** Free text for the operator; shown as the agent's (untrusted) words. */
  context?: string;
}

export interface ExecuteInput {
  action: string;
  payload?: Record<string, unknown>;
  nonce?: string;
  artifact?: ApprovalArtifact | null;
}

/** One long poll's longest wait (the API's limit). */
const MAX_WAIT_SECONDS = 60;

/**
 * The agent's side of OpenExec: propose, wait for the operator's decision, execute. Every
 * refusal is an OpenExecError with the API's status and `detail`; nothing is retried behind your
 * back (a retry is yours to make, with the same nonce).
 */
export class OpenExecClient {
  readonly url: string;
  private readonly token: string | undefined;

  constructor(options: ClientOptions = {}) {
    this.url = (options.url ?? 'http://127.0.0.1:5000').replace(/\/+$/, '');
    this.token = options.token;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let res: Response;
    try {
      res = await fetch(this.url + path, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new OpenExecError(0, `cannot reach OpenExec at ${this.url}: ${(err as Error).message}`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new OpenExecError(res.status, `answer is not JSON: ${text.slice(0, 200)}`);
    }
    if (!res.ok) {
      const detail = (parsed as { detail?: unknown }).detail;
      throw new OpenExecError(res.status, typeof detail === 'string' ? detail : JSON.stringify(detail));
    }
    return parsed as T;
  }

  /** Asks the operator: a pending proposal (or the existing one for this nonce). */
  propose(input: ProposeInput): Promise<Proposal> {
    return this.call<Proposal>('POST', '/proposals', {
      action: input.action,
      payload: input.payload ?? {},
      nonce: input.nonce ?? randomUUID(),
      ...(input.ttlSeconds !== undefined ? { ttl_seconds: input.ttlSeconds } : {}),
      ...(input.context !== undefined ? { context: input.context } : {}),
    });
  }

  /** The proposal now, or once decided within `waitSeconds` (0 to 60). */
  get(id: string, waitSeconds = 0, signal?: AbortSignal): Promise<Proposal> {
    return this.call<Proposal>(
      'GET',
      `/proposals/${encodeURIComponent(id)}?wait=${Math.min(MAX_WAIT_SECONDS, Math.max(0, waitSeconds))}`,
      undefined,
      signal,
    );
  }

  /**
   * Long-polls until the operator decides (or the proposal expires into a denial), or until
   * `timeoutMs` passes: then the proposal is returned still `pending`.
   */
  async waitForDecision(id: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<Proposal> {
    const deadline = Date.now() + (options.timeoutMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const left = deadline - Date.now();
      const proposal = await this.get(id, Math.max(0, Math.min(MAX_WAIT_SECONDS, left / 1000)), options.signal);
      if (proposal.status !== 'pending' || Date.now() >= deadline) return proposal;
    }
  }

  /** `POST /execute`: runs now where no approval is needed (demo mode) or an artifact covers it. */
  execute(input: ExecuteInput): Promise<Execution> {
    return this.call<Execution>('POST', '/execute', {
      action: input.action,
      payload: input.payload ?? {},
      nonce: input.nonce ?? randomUUID(),
      ...(input.artifact ? { approval_artifact: input.artifact } : {}),
    });
  }
}
