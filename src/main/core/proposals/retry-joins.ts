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
