import type { ActionRegistry } from '../actions/action-registry.ts';
import type { ToolPins } from '../actions/tool-pins.ts';
import type { OperatorRegistry } from '../approval/operator-registry.ts';
import type { Clock } from '../clock.ts';
import type { AllowList } from '../engine/allow-list.ts';
import type { Engine } from '../engine/engine.ts';
import type { GrantAuthority } from '../grants/grant-authority.ts';
import type { ExecutionRecords } from '../store/execution-records.ts';
import type { LedgerStore } from '../store/ledger-store.ts';
import type { ProposalRecords } from '../store/proposal-records.ts';

/**
 * What the proposal service uses of the core, and nothing more: the stores it reads and
 * witnesses through, the engine it executes with and the keys it signs with. OpenExecCore is
 * one; a test builds one from the stores of an instance on either engine, so that two
 * instances on one PostgreSQL database can be driven without a whole core each.
 */
export interface ProposalCore {
  readonly ledgerStore: LedgerStore;
  readonly proposalRecords: ProposalRecords;
  readonly executionRecords: ExecutionRecords;
  readonly registry: ActionRegistry;
  readonly allowList: Pick<AllowList, 'allowsWithin'>;
  readonly toolPins: Pick<ToolPins, 'hashWithin'>;
  readonly operators: Pick<OperatorRegistry, 'get'>;
  readonly grants: Pick<GrantAuthority, 'covers'>;
  readonly engine: Pick<Engine, 'execute' | 'closeInterruptedOf'>;
  readonly clock: Clock;
}
