import { isJsonObject, type JsonObject } from '../../json/json-value.ts';
import type { ReceiptDto } from '../../../../shared/console-dto.ts';
import { bodyProblems } from '../../../../shared/receipt-bodies.ts';
import { PURGE_RECEIPT_KIND } from '../../ledger/purge-receipt.ts';

/** The receipts that say a purge receipt removed their bodies, waiting for that receipt. */
interface Claim {
  purgedAt: string;
  /** The first claimant (named in a failure) and the newest (the purge must cover it). */
  first: { seq: number; field: string };
  lastSeq: number;
  lastTime: string;
}

const asNumber = (v: unknown) => (typeof v === 'bigint' || typeof v === 'number' ? Number(v) : null);

/** A failure, at the receipt whose body it is about. */
export interface BodyFailure {
  seq: number;
  problem: string;
}

const gone = (seq: number, field: string): BodyFailure => ({ seq, problem: `the ${field} body is gone, but no purge receipt covers it` });

/**
 * The bodies a chain's receipts commit to, checked as the verifier walks the chain in order
 * (pg-verify.ts), as verify-ledger checks them on SQLite (verify-receipt-bodies.ts): each
 * committed field has one body, kept (its salt and text hash to the committed value) or purged;
 * and a purged body names a later `purge` receipt written at its `purged_at` whose cut-off and
 * range cover it, checked when the walk reaches that receipt.
 */
export class BodyCheck {
  private readonly claims = new Map<number, Claim>();

  /** What is wrong with `r`'s bodies, or with a purge `r` records; null when nothing is. */
  async problem(r: ReceiptDto, body: JsonObject): Promise<BodyFailure | null> {
    const bodies = r.bodies ?? [];
    const problems = await bodyProblems(body, bodies);
    if (problems.length > 0) return { seq: r.seq, problem: problems.join('; ') };
    for (const b of bodies) {
      if (b.purgedAt === null) continue;
      if (b.purgeSeq === null || b.purgeSeq <= r.seq) return gone(r.seq, b.field);
      const claim = this.claims.get(b.purgeSeq);
      if (claim === undefined) {
        this.claims.set(b.purgeSeq, { purgedAt: b.purgedAt, first: { seq: r.seq, field: b.field }, lastSeq: r.seq, lastTime: r.time });
      } else if (claim.purgedAt !== b.purgedAt) {
        return gone(r.seq, b.field);
      } else {
        claim.lastSeq = r.seq;
        claim.lastTime = r.time;
      }
    }
    return this.settle(r, body);
  }

  /** Judges the claims on `r` if some body named it as its purge. */
  private settle(r: ReceiptDto, body: JsonObject): BodyFailure | null {
    const claim = this.claims.get(r.seq);
    if (claim === undefined) return null;
    this.claims.delete(r.seq);
    const details = body['details'];
    const covers =
      r.event === 'config' &&
      isJsonObject(details) &&
      details['kind'] === PURGE_RECEIPT_KIND &&
      r.time === claim.purgedAt &&
      typeof details['cutoff'] === 'string' &&
      claim.lastTime < details['cutoff'] &&
      claim.lastSeq <= (asNumber(details['to_seq']) ?? 0);
    return covers ? null : gone(claim.first.seq, claim.first.field);
  }

  /** After the whole chain: a purge some body named but the chain does not reach. */
  unsettled(): BodyFailure | null {
    const [claim] = [...this.claims.values()].sort((a, b) => a.first.seq - b.first.seq);
    return claim ? gone(claim.first.seq, claim.first.field) : null;
  }
}
