/** Bounded so that agents that never come back cannot grow it without end. */
const MAX_ENTRIES = 10_000;

/**
 * Calls answered "still pending, retry" by a gateway (the Claude Code hook, the MCP gateway),
 * keyed by agent and request hash: the same call made again joins that proposal instead of
 * making a new one, and gets its decision once, even if the operator decided in between.
 */
export class RetryJoins {
  private readonly waiting = new Map<string, string>();
  /** The nonce a retry came with, for the proposal it joined (the client reports under it). */
  private readonly aliases = new Map<string, string>();
  /** The call (its nonce) each approval was delivered to: a client runs what it is allowed, so once. */
  private readonly deliveredTo = new Map<string, string>();

  private static key(agent: string | null, requestHash: string): string {
    return `${agent ?? ''}\n${requestHash}`;
  }

  /** The proposal an earlier identical call is waiting on, if any. */
  joined(agent: string | null, requestHash: string): string | null {
    return this.waiting.get(RetryJoins.key(agent, requestHash)) ?? null;
  }

  /** The caller was told to retry: remember which proposal the retry joins. */
  remember(agent: string | null, requestHash: string, proposalId: string): void {
    const key = RetryJoins.key(agent, requestHash);
    this.waiting.delete(key);
    bounded(this.waiting).set(key, proposalId);
  }

  /**
   * The decision was delivered (under `retryNonce` when a retry with a nonce of its own joined
   * the proposal): a later identical call is a new request.
   */
  settled(agent: string | null, requestHash: string, retryNonce: string | null, proposalId: string): void {
    this.waiting.delete(RetryJoins.key(agent, requestHash));
    if (retryNonce !== null) bounded(this.aliases).set(retryNonce, proposalId);
  }

  /**
   * Hands the approval of `proposalId` to the call made under `nonce`: null for the first call
   * (and for that same call asking again), else the nonce of the call that already has it.
   * Identical retries may join one proposal concurrently; only one of them may run it.
   */
  deliver(proposalId: string, nonce: string): string | null {
    const holder = this.deliveredTo.get(proposalId);
    if (holder !== undefined) return holder === nonce ? null : holder;
    bounded(this.deliveredTo).set(proposalId, nonce);
    return null;
  }

  /** The proposal a retry made under `nonce` was answered from. */
  proposalOf(nonce: string): string | null {
    return this.aliases.get(nonce) ?? null;
  }
}

/** Drops the oldest entry when full, so the next insertion keeps the map within bounds. */
function bounded(map: Map<string, string>): Map<string, string> {
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!);
  return map;
}
