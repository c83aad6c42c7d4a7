import { OpenExecClient, OpenExecError } from '../../client/index.ts';

/**
 * The demo's scripted agent: what an integrator writes. It holds an agent identity (a name the
 * operator registered with `openexec agents add`, and its token) and talks to OpenExec only
 * through the published client, `openexec-console/client`.
 */
export class DemoAgent {
  readonly client: OpenExecClient;

  constructor(
    readonly name: string,
    readonly url: string,
    token: string,
  ) {
    this.client = new OpenExecClient({ url, token });
  }

  /** The receipt public key, which anyone may fetch; the client does not cover it. */
  async receiptPublicKeyPem(): Promise<string> {
    const res = await fetch(`${this.url}/receipts/public-key`);
    const body = (await res.json().catch(() => null)) as { public_key_pem?: unknown } | null;
    if (!res.ok || typeof body?.public_key_pem !== 'string') throw new OpenExecError(res.status, 'no receipt public key');
    return body.public_key_pem;
  }
}

/** A call's outcome: its value, or the refusal the client threw (any other error propagates). */
export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: OpenExecError };

export async function attempt<T>(call: Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call };
  } catch (err) {
    if (err instanceof OpenExecError && err.status !== 0) return { ok: false, refusal: err };
    throw err;
  }
}
