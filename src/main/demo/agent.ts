/**
 * The demo's scripted agent: the agent API (README "The agent API") over plain HTTP, nothing
 * more. Kept to this one small surface so it can switch to the typed client library
 * (`openexec-console/client`) when that lands, without touching the scenario steps.
 */

export interface AgentAnswer {
  status: number;
  body: Record<string, unknown>;
}

export interface ProposeRequest {
  action: string;
  payload: Record<string, unknown>;
  nonce: string;
  context?: string | undefined;
  ttl_seconds?: number | undefined;
}

export interface ExecuteRequest {
  action: string;
  payload: Record<string, unknown>;
  nonce: string;
  approval_artifact?: Record<string, string> | undefined;
}

/** A long-poll is bounded by the server at 60 s; ask for a little less. */
const MAX_WAIT_SECONDS = 55;

export class DemoAgent {
  constructor(readonly baseUrl: string) {}

  propose(request: ProposeRequest): Promise<AgentAnswer> {
    return this.send('POST', '/proposals', request);
  }

  execute(request: ExecuteRequest): Promise<AgentAnswer> {
    return this.send('POST', '/execute', request);
  }

  /** The proposal's status; with `waitSeconds` the server answers as soon as it is decided. */
  proposal(id: string, waitSeconds = 0): Promise<AgentAnswer> {
    const wait = Math.min(Math.max(0, Math.floor(waitSeconds)), MAX_WAIT_SECONDS);
    return this.send('GET', `/proposals/${encodeURIComponent(id)}${wait > 0 ? `?wait=${wait}` : ''}`);
  }

  receiptPublicKey(): Promise<AgentAnswer> {
    return this.send('GET', '/receipts/public-key');
  }

  private async send(method: 'GET' | 'POST', path: string, body?: unknown): Promise<AgentAnswer> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = { detail: text };
    }
    const record =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
    return { status: res.status, body: record };
  }
}
