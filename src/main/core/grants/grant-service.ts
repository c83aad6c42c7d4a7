import { randomUUID } from 'node:crypto';
import type { OpenExecCore } from '../openexec-core.ts';
import type { JsonObject, JsonValue } from '../json/json-value.ts';
import { isJsonObject } from '../json/json-value.ts';
import { canonicalJson } from '../json/canonical.ts';
import { parseJson } from '../json/parse.ts';
import { isoUtc } from '../clock.ts';
import { Refusal } from '../errors.ts';
import { isStorageFull } from '../store/storage-full.ts';
import type { GrantDto, GrantPreviewDto } from '../../../shared/grant-dto.ts';
import { plain } from '../actions/declared/payload-schema.ts';
import { checkTerms, GrantTermsError, GRANT_TYPE, GRANT_VERSION, signGrant, type GrantTerms } from './grant-artifact.ts';
import { GRANT_RECEIPT_KIND, GrantAlreadyEnded, type GrantAuthority, type VerifiedGrant } from './grant-authority.ts';
import type { GrantRow } from './grant-store.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';

/** What an operator asks for; the service turns it into signed terms. */
export interface GrantRequest {
  action: string;
  agent?: string | null;
  fixed: JsonObject;
  /** JSON Schema (type object) of the varying fields; objects are closed. */
  schema: JsonObject;
  uses?: number | null;
  /** Lifetime from now; becomes the signed `until`. */
  forSeconds?: number | null;
  untilRestart?: boolean;
  reason: string;
  proposalId?: string | null;
}

const LIST_LIMIT = 500;

/**
 * Issues, lists and revokes grants. Issuing signs the terms with the operator key and records
 * them with a `config` receipt carrying the signed text; revoking ends the grant in one
 * transaction with its receipt, so no decision committed after it can spend a use. Grants are
 * read through GrantRecords and written in witnessed writes on the LedgerStore.
 */
export class GrantService {
  private sweeper: NodeJS.Timeout | null = null;

  constructor(private readonly core: OpenExecCore) {}

  private get authority(): GrantAuthority {
    return this.core.grants;
  }

  /** Expiry is checked at every dispatch; the timer only makes its receipt prompt. */
  start(intervalMs = 1000): void {
    this.sweeper = setInterval(() => this.sweep(), intervalMs);
    this.sweeper.unref();
  }

  private sweep(): void {
    this.endDue().catch((err: unknown) => {
      // Stopped while it ran (the core closing under it): there is nothing left to end.
      if (this.sweeper === null) return;
      throw err;
    });
  }

  stop(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = null;
  }

  async endDue(): Promise<void> {
    try {
      await this.commit((tx) => this.authority.endDueWithin(tx));
    } catch (err) {
      if (!isStorageFull(err)) throw err;
    }
  }

  /** The terms a request would be signed as, checked; refused (422) when they are not acceptable. */
  private async terms(request: GrantRequest): Promise<GrantTerms> {
    const { core } = this;
    if (!core.registry.has(request.action) || !(await core.allowList.allowsNow(request.action))) {
      throw new Refusal('not_allowed', `Action '${request.action}' is not an allowed action`);
    }
    if ((core.registry.get(request.action)?.quorum ?? 1) > 1) {
      throw new Refusal('conflict', `Action '${request.action}' needs a quorum of operators for every run; it cannot be granted`);
    }
    const now = core.clock.now();
    const limit: GrantTerms['limit'] = {};
    if (request.uses != null) limit.uses = request.uses;
    if (request.forSeconds != null) limit.until = isoUtc(now + request.forSeconds * 1000);
    if (request.untilRestart) limit.until_restart = true;
    const terms: GrantTerms = {
      type: GRANT_TYPE,
      v: GRANT_VERSION,
      grant_id: randomUUID(),
      issued_at: isoUtc(now),
      operator_key_id: core.operatorSigner.keyId,
      scope: {
        action: request.action,
        ...(request.agent ? { agent: request.agent } : {}),
        fixed: request.fixed,
        schema: request.schema,
      },
      limit,
      reason: request.reason,
      ...(request.proposalId ? { proposal_id: request.proposalId } : {}),
    };
    try {
      checkTerms(terms, now);
    } catch (err) {
      if (err instanceof GrantTermsError) throw new Refusal('invalid_request', `Grant refused: ${err.message}`);
      throw err;
    }
    return terms;
  }

  /** What `issue` would sign for this request, for the operator to read first. */
  async preview(request: GrantRequest): Promise<GrantPreviewDto> {
    const terms = await this.terms(request);
    return {
      action: terms.scope.action,
      agent: terms.scope.agent ?? null,
      fixed: canonicalJson(terms.scope.fixed),
      schema: JSON.stringify(plain(terms.scope.schema), null, 2),
      varying: varyingOf(terms),
      uses: request.uses ?? null,
      forSeconds: request.forSeconds ?? null,
      untilRestart: request.untilRestart === true,
      reason: terms.reason,
    };
  }

  async issue(request: GrantRequest): Promise<GrantDto> {
    const { core } = this;
    const terms = await this.terms(request);
    const signed = signGrant(terms, core.operatorSigner);
    await this.commit(async (tx) => {
      await this.authority.records.within(tx).insert({
        id: terms.grant_id,
        action: terms.scope.action,
        body: signed.body,
        signature: signed.signature,
        key_id: terms.operator_key_id,
        boot_id: this.authority.bootId,
        created_at: terms.issued_at,
      });
      await tx.append({
        event: 'config',
        action: terms.scope.action,
        grant_id: terms.grant_id,
        proposal_id: terms.proposal_id ?? null,
        approver: 'operator',
        approver_key_id: terms.operator_key_id,
        reason: `grant ${terms.grant_id} granted: ${request.reason}`,
        details: obj({ kind: GRANT_RECEIPT_KIND, change: 'granted', grant: parseJson(signed.body), signature: signed.signature }),
      });
    });
    return this.dto((await this.authority.records.get(terms.grant_id))!);
  }

  /** Ends a live grant now; decisions committed after this cannot spend it. */
  async revoke(id: string, reason: string): Promise<GrantDto> {
    const row = await this.authority.records.get(id);
    if (!row) throw new Refusal('not_found', `No grant ${id}`);
    const grant = this.authority.verify(row);
    if (!grant) throw new Refusal('conflict', `Grant ${id} does not verify under a known operator key`);
    if (row.ended_reason !== null) throw new Refusal('conflict', `Grant ${id} has already ended (${row.ended_reason})`);
    try {
      await this.commit(async (tx) => {
        // Read again inside the transaction: a use spent just before counts in the receipt.
        const now = (await this.authority.records.within(tx).get(id))!;
        await this.authority.endWithin(tx, { ...grant, row: now }, 'revoked', reason);
      });
    } catch (err) {
      if (err instanceof GrantAlreadyEnded) throw new Refusal('conflict', `Grant ${id} has already ended`);
      throw err;
    }
    return this.dto((await this.authority.records.get(id))!);
  }

  async get(id: string): Promise<GrantDto | undefined> {
    await this.endDue();
    const row = await this.authority.records.get(id);
    return row ? this.dto(row) : undefined;
  }

  /** Live grants, or the latest ones whatever their state. */
  async list(all = false): Promise<GrantDto[]> {
    await this.endDue();
    const { records } = this.authority;
    const rows = all ? await records.latest(LIST_LIMIT) : await records.live();
    return rows.map((row) => this.dto(row));
  }

  private dto(row: GrantRow): GrantDto {
    const grant: VerifiedGrant | null = this.authority.verify(row);
    const terms = grant?.terms ?? null;
    const schema = terms?.scope.schema ?? {};
    return {
      id: row.id,
      action: row.action,
      agent: terms?.scope.agent ?? null,
      fixed: terms ? canonicalJson(terms.scope.fixed) : '{}',
      schema: JSON.stringify(plain(schema), null, 2),
      varying: terms ? varyingOf(terms) : [],
      uses: terms?.limit.uses ?? null,
      usesSpent: row.uses_spent,
      until: terms?.limit.until ?? null,
      untilRestart: terms?.limit.until_restart === true,
      reason: terms?.reason ?? '',
      issuedAt: terms?.issued_at ?? row.created_at,
      keyId: row.key_id,
      proposalId: terms?.proposal_id ?? null,
      status: row.ended_reason ?? 'live',
      endedAt: row.ended_at,
      body: row.body,
      signature: row.signature,
    };
  }

  private commit(work: (tx: LedgerTransaction) => Promise<void>): Promise<void> {
    return this.core.ledgerStore.witness(work);
  }
}

function obj(entries: Record<string, JsonValue>): JsonObject {
  return Object.assign(Object.create(null) as JsonObject, entries);
}

function varyingOf(terms: GrantTerms): string[] {
  const props = terms.scope.schema['properties'];
  return isJsonObject(props) ? Object.keys(props).sort() : [];
}
