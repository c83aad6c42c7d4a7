import type { ConsoleApi } from '../../../shared/console-api.ts';
import type { SimilarGrantInput } from '../../../shared/grant-schemas.ts';
import type { ProposalService } from '../proposals/proposal-service.ts';
import type { GrantRequest, GrantService } from '../grants/grant-service.ts';
import { similarScope } from '../grants/similar-grant.ts';
import { payloadOf } from '../proposals/proposal-store.ts';
import { Refusal } from '../errors.ts';
import { guarded } from './console-guard.ts';

/** The console's grants: "Approve similar…", the list, and revocation. */
export class ConsoleGrants implements Pick<ConsoleApi, 'previewSimilar' | 'approveSimilar' | 'listGrants' | 'revokeGrant'> {
  constructor(
    private readonly proposals: ProposalService,
    private readonly grants: GrantService,
  ) {}

  /** The grant for requests like a pending proposal: its payload with `vary` let free. */
  private async similarRequest(input: SimilarGrantInput): Promise<GrantRequest> {
    const row = await this.proposals.get(input.id);
    if (!row) throw new Refusal('not_found', `No proposal ${input.id}`);
    if (row.status !== 'pending') throw new Refusal('conflict', `Proposal ${input.id} is already ${row.status}`);
    return {
      action: row.action,
      // Only the agent whose verified token made the proposal; a proposal without one grants any.
      agent: row.agent,
      ...similarScope(payloadOf(row), input.vary),
      uses: input.uses ?? null,
      forSeconds: input.forSeconds ?? null,
      untilRestart: input.untilRestart ?? false,
      reason: input.reason || `requests like proposal ${row.id}`,
      proposalId: row.id,
    };
  }

  previewSimilar(input: SimilarGrantInput) {
    return guarded(async () => this.grants.preview(await this.similarRequest(input)));
  }

  approveSimilar(input: SimilarGrantInput) {
    return guarded(async () => {
      const request = await this.similarRequest(input);
      // Refused terms stop here, before the proposal is approved.
      await this.grants.preview(request);
      const approved = await this.proposals.approve(input.id);
      if (approved.status !== 'executed') {
        throw new Refusal(
          'conflict',
          `Proposal ${input.id} was approved but ${approved.status}: ${approved.reason ?? ''}; no grant was issued`,
        );
      }
      return { proposal: await this.proposals.dto(approved), grant: await this.grants.issue(request) };
    });
  }

  listGrants(input: { all?: boolean | undefined }) {
    return guarded(() => this.grants.list(input.all === true));
  }

  revokeGrant(input: { id: string; reason: string }) {
    return guarded(() => this.grants.revoke(input.id, input.reason));
  }
}
