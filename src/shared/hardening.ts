/**
 * The production hardening report (`openexec doctor`, the console's `hardeningReport`, the
 * Status view's Hardening panel). The first twelve ids are SECURITY.md's checklist, in its
 * order; the rest are OpenExec's own.
 */
export const CHECKLIST_IDS = [
  'bind',
  'firewall',
  'tls',
  'pinned_dependencies',
  'isolation',
  'not_root',
  'allowed_actions',
  'clawshield_public_key',
  'tenant_id',
  'handlers_audited',
  'remote_db_trust',
  'logs_and_monitoring',
] as const;

export const OWN_CHECK_IDS = ['data_dir_modes', 'key_file_modes', 'disk_space', 'ledger_tail', 'receipt_key_backup'] as const;

export type HardeningCheckId = (typeof CHECKLIST_IDS)[number] | (typeof OWN_CHECK_IDS)[number];

/** `manual`: the program cannot know; `remedy` is the question the operator must answer. */
export type HardeningStatus = 'pass' | 'warn' | 'fail' | 'manual';

export interface HardeningCheckDto {
  id: HardeningCheckId;
  status: HardeningStatus;
  /** What was seen, in one line. */
  evidence: string;
  /** One line: what to do (or, for `manual`, what to ask yourself). */
  remedy: string;
}

export interface HardeningReportDto {
  checks: HardeningCheckDto[];
}

/** What the backup method reports: the copy, the head it holds and the receipt recording it. */
export interface BackupDto {
  path: string;
  bytes: number;
  sha256: string;
  /** The head of the copied ledger. */
  seq: number;
  hash: string;
  /** The `config` receipt (kind `backup`) that records this backup in the live ledger. */
  receiptSeq: number;
}
