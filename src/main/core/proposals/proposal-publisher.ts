import type { ProposalDto } from '../../../shared/console-dto.ts';
import { actionPreview } from '../actions/declared/action-preview.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { ProposalCore } from './proposal-core.ts';
import { ProposalFollower } from './proposal-follower.ts';
import { payloadOf, proposalDto, type ProposalRow } from './proposal-store.ts';
import { ProposalWaiters, type ArmedWaiter } from './proposal-waiters.ts';
import { QuorumView } from './quorum-view.ts';

/**
 * How a proposal's changes reach whoever watches: the event hub (the console's window and
 * event streams) with the proposal as the console shows it, and the long-polls and holds
 * waiting for its decision. Both for the changes this instance makes and, through
 * ProposalFollower, for those other instances on the same ledger make (PostgreSQL).
 */
export class ProposalPublisher {
  private readonly waiters = new ProposalWaiters();
  private readonly quorum: QuorumView;
  private readonly follower: ProposalFollower;

  constructor(
    private readonly core: Pick<ProposalCore, 'ledgerStore' | 'proposalRecords' | 'registry'>,
    private readonly events: EventHub,
  ) {
    const records = core.proposalRecords;
    this.quorum = new QuorumView(records, core.registry);
    this.follower = new ProposalFollower(core.ledgerStore, {
      read: (id) => records.get(id),
      publish: (row) => this.publish(row),
    });
  }

  /** Resolves when the proposal is published decided, here or from elsewhere, or after `ms`. */
  arm(id: string): ArmedWaiter {
    return this.waiters.arm(id);
  }

  /** A proposal for the console, with what its action will do rendered from its payload. */
  async dto(row: ProposalRow): Promise<ProposalDto> {
    // Retention took the payload: there is nothing to render what it would do from.
    if (row.purged_at !== null) return proposalDto(row);
    const quorum = await this.quorum.of(row.id, row.action);
    return {
      ...proposalDto(row),
      ...(quorum ? { quorum } : {}),
      preview: actionPreview(
        this.core.registry.get(row.action),
        payloadOf(row),
        row.status === 'pending' ? row.action_def_hash : undefined,
      ),
    };
  }

  /** A change this instance made, read after it committed. */
  async changed(row: ProposalRow): Promise<void> {
    const ticket = this.follower.ticket();
    try {
      await this.publish(row);
    } finally {
      this.follower.publishedHere(row.id, ticket);
    }
  }

  /** Stops following other instances and releases every waiter. */
  close(): void {
    this.follower.close();
    this.waiters.wakeAll();
  }

  private async publish(row: ProposalRow): Promise<void> {
    try {
      this.events.emit({ type: 'proposal', proposal: await this.dto(row) });
    } finally {
      // Whoever waits for the decision hears of it even if the console's view could not be read.
      if (row.status !== 'pending') this.waiters.wake(row.id);
    }
  }
}
