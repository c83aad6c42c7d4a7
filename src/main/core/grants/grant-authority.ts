import type { Ed25519Verifier } from '../crypto/ed25519.ts';
import type { JsonObject } from '../json/json-value.ts';
import type { PayloadValidator } from '../actions/declared/payload-schema.ts';
import type { ReceiptDto } from '../../../shared/console-dto.ts';
import type { Clock } from '../clock.ts';
import { parseIsoTimestamp } from '../approval/iso-time.ts';
import { checkTerms, verifyGrant, type GrantTerms } from './grant-artifact.ts';
import { scopeMiss, type ScopedRequest } from './grant-scope.ts';
import type { GrantEnding, GrantRow } from './grant-store.ts';
import type { GrantRecords } from '../store/grant-records.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';
import type { ReceiptDraft } from '../ledger/receipt-body.ts';
import { instanceOfBoot } from './boot-id.ts';

/** Which use of which grant authorised an execution. */
export interface GrantUse {
  grantId: string;
  /** 1 for the first execution under the grant, 2 for the next, … */
  use: number;
  /** The operator key that signed the grant. */
  keyId: string;
}

export interface VerifiedGrant {
  row: GrantRow;
  terms: GrantTerms;
  varying: PayloadValidator;
}

export const GRANT_RECEIPT_KIND = 'grant';

/**
 * Grants at the moment of dispatch. Every method that writes runs inside the caller's
 * transaction (the engine's decision, or a service's commit): the liveness check, the scope
 * check and the spending of a use happen in the same transaction as the reservation of the
 * execution, so a grant of N uses authorises exactly N executions however many race for it,
 * also across OpenExec instances on one PostgreSQL database. Each reads and writes through
 * GrantRecords within the witnessed write (`records.within(tx)`), on the connection that holds
 * its transaction.
 */
export class GrantAuthority {
  /** Terms whose signature verified, by grant id, with the body that was verified. */
  private readonly verified = new Map<string, { body: string; signature: string; terms: GrantTerms; varying: PayloadValidator }>();

  constructor(
    readonly records: GrantRecords,
    private readonly operatorKey: (keyId: string) => Ed25519Verifier | null,
    private readonly clock: Clock,
    /** This run of this instance (boot-id.ts): an `until_restart` grant issued in an earlier run of it is over. */
    readonly bootId: string,
  ) {}

  /**
   * Whether this instance may use or end the grant: not an `until_restart` grant of another
   * instance sharing the database, which is live while that instance runs and is its to end.
   */
  private ours(grant: VerifiedGrant): boolean {
    if (!grant.terms.limit.until_restart || grant.row.boot_id === this.bootId) return true;
    const issuer = instanceOfBoot(grant.row.boot_id);
    return issuer === null || issuer === instanceOfBoot(this.bootId);
  }

  /** The grant's signed terms, or null when its row does not verify under a known operator key. */
  verify(row: GrantRow): VerifiedGrant | null {
    const cached = this.verified.get(row.id);
    if (cached && cached.body === row.body && cached.signature === row.signature)
      return { row, terms: cached.terms, varying: cached.varying };
    const key = this.operatorKey(row.key_id);
    const terms = key ? verifyGrant(row.body, row.signature, key) : null;
    if (terms === null || terms.grant_id !== row.id || terms.scope.action !== row.action) return null;
    let varying: PayloadValidator;
    try {
      varying = checkTerms(terms, null);
    } catch {
      return null;
    }
    this.verified.set(row.id, { body: row.body, signature: row.signature, terms, varying });
    return { row, terms, varying };
  }

  /** Why a grant is over at `now`, or null while it is live. `until` is exclusive. */
  endingAt(grant: VerifiedGrant, now: number): GrantEnding | null {
    const { limit } = grant.terms;
    if (grant.row.ended_reason !== null) return grant.row.ended_reason;
    if (limit.until_restart && grant.row.boot_id !== this.bootId) return 'restart';
    if (limit.until !== undefined && now >= (parseIsoTimestamp(limit.until) ?? 0)) return 'expired';
    if (limit.uses !== undefined && grant.row.uses_spent >= limit.uses) return 'exhausted';
    return null;
  }

  /**
   * Inside the decision's witnessed write `tx`: spends one use of the first live grant (oldest
   * first) whose scope covers the request, and witnesses the grant's exhaustion if that was its
   * last use. Grants found over on the way are ended, with a receipt. A use another decision
   * spent first (the count moved) moves on to the next grant. Returns the use, or why no grant
   * covers the request.
   */
  async spend(request: ScopedRequest, tx: LedgerTransaction): Promise<GrantUse | { miss: string }> {
    const records = this.records.within(tx);
    const now = this.clock.now();
    let miss = 'no live grant for this action';
    const { live, over } = this.sorted(await records.live(request.action), now);
    for (const [grant, ending] of over) await this.endWithin(tx, grant, ending, endingDetail(grant, ending));
    for (const grant of live) {
      const outside = scopeMiss(grant.terms.scope, grant.varying, request);
      if (outside !== null) {
        miss = `outside grant ${grant.row.id}: ${outside}`;
        continue;
      }
      if (!(await records.spend(grant.row.id, grant.row.uses_spent))) continue;
      const use = grant.row.uses_spent + 1;
      const uses = grant.terms.limit.uses;
      if (uses !== undefined && use >= uses) {
        await this.endWithin(tx, { ...grant, row: { ...grant.row, uses_spent: use } }, 'exhausted', `use ${use} of ${uses} spent`);
      }
      return { grantId: grant.row.id, use, keyId: grant.row.key_id };
    }
    return { miss };
  }

  /** Whether a live grant covers the request now; reads only (the spend decides). */
  async covers(request: ScopedRequest): Promise<boolean> {
    const now = this.clock.now();
    return (await this.records.live(request.action)).some((row) => {
      const grant = this.verify(row);
      return (
        grant !== null &&
        this.ours(grant) &&
        this.endingAt(grant, now) === null &&
        scopeMiss(grant.terms.scope, grant.varying, request) === null
      );
    });
  }

  /**
   * Inside the witnessed write `tx`: ends, with a receipt each, every grant that is over
   * (expired, or bound to an earlier run).
   */
  async endDueWithin(tx: LedgerTransaction): Promise<void> {
    const records = this.records.within(tx);
    const { over } = this.sorted(await records.live(), this.clock.now());
    for (const [grant, ending] of over) await this.endWithin(tx, grant, ending, endingDetail(grant, ending));
  }

  /** Rows the store calls live, verified: those still live, and those over with why. */
  private sorted(rows: GrantRow[], now: number): { live: VerifiedGrant[]; over: [VerifiedGrant, GrantEnding][] } {
    const live: VerifiedGrant[] = [];
    const over: [VerifiedGrant, GrantEnding][] = [];
    for (const row of rows) {
      const grant = this.verify(row);
      // A row that does not verify authorises nothing; it stays for an operator to look at.
      if (grant === null || !this.ours(grant)) continue;
      const ending = this.endingAt(grant, now);
      if (ending === null) live.push(grant);
      else over.push([grant, ending]);
    }
    return { live, over };
  }

  /** Ends a live grant and witnesses it in the witnessed write `tx`; throws GrantAlreadyEnded if it had ended. */
  async endWithin(tx: LedgerTransaction, grant: VerifiedGrant, reason: GrantEnding, detail: string): Promise<ReceiptDto> {
    const receipt = await tx.append(endingReceipt(grant, reason, detail));
    if (!(await this.records.within(tx).end(grant.row.id, reason, receipt.time, receipt.seq))) throw new GrantAlreadyEnded(grant.row.id);
    return receipt;
  }
}

/** The `config` receipt that witnesses a grant's ending. */
function endingReceipt({ row, terms }: VerifiedGrant, reason: GrantEnding, detail: string): ReceiptDraft {
  const details: JsonObject = Object.assign(Object.create(null) as JsonObject, {
    kind: GRANT_RECEIPT_KIND,
    change: reason,
    uses_spent: BigInt(row.uses_spent),
  });
  return { event: 'config', action: terms.scope.action, grant_id: row.id, reason: `grant ${row.id} ${reason}: ${detail}`, details };
}

/** Thrown inside a transaction to roll back a receipt about a grant someone else ended first. */
export class GrantAlreadyEnded extends Error {
  constructor(readonly grantId: string) {
    super(`grant ${grantId} has already ended`);
  }
}

function endingDetail(grant: VerifiedGrant, ending: GrantEnding): string {
  const { limit } = grant.terms;
  if (ending === 'expired') return `its time ran out at ${limit.until ?? '?'}`;
  if (ending === 'restart') return 'it was valid until OpenExec restarted';
  if (ending === 'exhausted') return `all ${limit.uses ?? '?'} uses spent`;
  return 'revoked';
}
