import type { ConsoleApi } from '../../../shared/console-api.ts';
import type { AllowListDto } from '../../../shared/console-dto.ts';
import type { OpenExecCore } from '../openexec-core.ts';
import type { EventHub } from '../events/event-hub.ts';
import type { JsonObject } from '../json/json-value.ts';
import { Refusal } from '../errors.ts';
import { guarded } from './console-guard.ts';

type OperationsMethods =
  | 'listApprovals'
  | 'getAllowList'
  | 'setAllowed'
  | 'addAgent'
  | 'listAgents'
  | 'revokeAgent'
  | 'acceptToolDefinition'
  | 'listOperators'
  | 'listToolPins';

/** The console's configuration: the allow-list, agents, MCP tool pins, and the approvals spent. */
export class ConsoleOperations implements Pick<ConsoleApi, OperationsMethods> {
  constructor(
    private readonly core: OpenExecCore,
    private readonly events: EventHub,
  ) {}

  listApprovals(input: { limit?: number | undefined; beforeSeq?: number | undefined }) {
    return guarded(() => this.core.executionRecords.listApprovals(input.limit ?? 100, input.beforeSeq));
  }

  getAllowList() {
    return guarded(() => this.core.allowList.snapshot());
  }

  /** The change and its `config` receipt are one witnessed write; the new list is adopted once it has committed. */
  setAllowed(input: { action: string; allowed: boolean }) {
    return guarded(async (): Promise<AllowListDto> => {
      const { action, allowed } = input;
      const { allowList, registry, ledgerStore } = this.core;
      if (allowList.locked) {
        throw new Refusal('locked', 'The allow-list is fixed by OPENEXEC_ALLOWED_ACTIONS; change it there and restart');
      }
      if (!registry.has(action)) throw new Refusal('unknown_action', `Unknown action: ${action}`);
      const { changed, list: after } = await ledgerStore.witness(async (tx) => {
        // The allow-list reads and writes its setting itself, on the connection this piece's transaction holds.
        const change = await allowList.set(action, allowed, tx);
        if (!change.changed) return change;
        const details = Object.create(null) as JsonObject;
        details['before'] = change.before;
        details['after'] = change.list;
        await tx.append({ event: 'config', action, reason: `allow-list: ${allowed ? 'allowed' : 'disallowed'} ${action}`, details });
        return change;
      });
      if (changed) allowList.adopt(after);
      const snapshot = allowList.snapshot();
      if (changed) this.events.emit({ type: 'allow-list', allowList: snapshot });
      return snapshot;
    });
  }

  addAgent(input: { name: string }) {
    return guarded(async () => {
      const { agent, token } = await this.core.agents.add(input.name);
      return { name: agent.name, token };
    });
  }

  listAgents() {
    return guarded(() => this.core.agents.list());
  }

  revokeAgent(input: { name: string }) {
    return guarded(() => this.core.agents.revoke(input.name));
  }

  acceptToolDefinition(input: { action: string; hash?: string | undefined }) {
    return guarded(() => this.core.toolPins.accept(input.action, input.hash));
  }

  listOperators() {
    return guarded(() => this.core.operators.list());
  }

  listToolPins() {
    return guarded(() => this.core.toolPins.list());
  }
}
