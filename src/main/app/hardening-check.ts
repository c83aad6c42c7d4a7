import type { HardeningCheckDto, HardeningCheckId, HardeningStatus } from '../../shared/hardening.ts';

/** What only the running server knows. */
export interface ServerFacts {
  boundHost: string;
  boundPort: number;
  allowList: readonly string[] | null;
  allowListLocked: boolean;
  /** Every registered action and its definition hash (null for built-ins). */
  actions: readonly { name: string; definitionHash: string | null }[];
  manifest: { path: string; hash: string; recordedSeq: number | null } | null;
  /** The last receipts re-verified: hash, link and signature. */
  tail: { checked: number; valid: boolean; problem: string | null; firstBadSeq: number | null };
  /** The last `config` receipt of kind backup, if any. */
  lastBackup: { receiptSeq: number; time: string; seq: number } | null;
  logging: { file: string | null; maxBytes: number; files: number; level: string };
  metrics: boolean;
}

/** One item of the report: what was checked, what it found, and one line of what to do. */
export function check(id: HardeningCheckId, status: HardeningStatus, evidence: string, remedy: string): HardeningCheckDto {
  return { id, status, evidence, remedy };
}
