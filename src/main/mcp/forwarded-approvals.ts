/** How many witnessed forwards a proxy remembers before it asks the ledger about older ones. */
export const REMEMBERED_FORWARDS = 10_000;

/**
 * The proposals whose approval a proxy has used: an approval is forwarded once. Identical
 * retries can join one proposal, even concurrently (and a retry told "pending" just as another
 * saw the decision joins it again), so several calls may see one approval: the first claims it.
 *
 * Memory stays bounded without forgetting what matters: a claim is held until its `reported`
 * receipt has committed (for good if it never does, since then nothing else says the call went
 * out); after that only the most recent `limit` are kept, because the ledger answers for the
 * rest. Once any has been dropped, a proposal this proxy does not remember is asked about
 * (`mayHaveForgotten`) before it is forwarded.
 */
export class ForwardedApprovals {
  /** Claimed, maybe forwarded, not (yet) witnessed: never dropped. */
  private readonly unwitnessed = new Set<string>();
  /** Witnessed, oldest first. */
  private readonly witnessed = new Set<string>();
  private dropped = false;

  constructor(private readonly limit: number = REMEMBERED_FORWARDS) {}

  /** Claims the approval for one forward; false if this proxy remembers using it. */
  claim(proposalId: string): boolean {
    if (this.unwitnessed.has(proposalId) || this.witnessed.has(proposalId)) return false;
    this.unwitnessed.add(proposalId);
    return true;
  }

  /** Whether a claim that succeeded may be for an approval used and since forgotten. */
  get mayHaveForgotten(): boolean {
    return this.dropped;
  }

  /** A `reported` receipt now names the proposal: from here on the ledger can say it was used. */
  recorded(proposalId: string): void {
    this.unwitnessed.delete(proposalId);
    this.witnessed.delete(proposalId);
    this.witnessed.add(proposalId);
    while (this.witnessed.size > this.limit) {
      this.witnessed.delete(this.witnessed.values().next().value!);
      this.dropped = true;
    }
  }

  /** Claimed, but nothing was forwarded: the approval is still unused. */
  release(proposalId: string): void {
    this.unwitnessed.delete(proposalId);
  }
}
