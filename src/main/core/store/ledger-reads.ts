/**
 * What the console, the API and start-up read of the ledger besides its head and its search,
 * asynchronously, so that they read a PostgreSQL ledger as they read SQLite's: every LedgerStore
 * has them (`reads`: ./sqlite/sqlite-ledger-reads.ts, ./postgres/pg-ledger-reads.ts), and one
 * contract suite (test/core/store/ledger-reads-contract.test.ts) holds both to the same answers.
 */
import type { ChainCheckDto, ChainRangeDto, ReceiptCheckDto, ReceiptWithNeighboursDto } from '../../../shared/console-dto.ts';
import type { ApproverKeys } from '../approval/check-evidence.ts';
import type { ConfigReceipt } from '../ledger/ledger-reader.ts';
import type { LastBackup } from '../ledger/backup.ts';
import type { JoinsWitness } from './joins-witness.ts';

export type { ConfigReceipt, LastBackup };

export interface LedgerReads extends JoinsWitness<LedgerReads> {
  /** Receipt `seq` with the receipts either side of it (null at the ends); null when there is none. */
  withNeighbours(seq: number): Promise<ReceiptWithNeighboursDto | null>;
  /**
   * Receipt `seq` judged on its own and by its link to the receipt before it: its hash, its
   * signature by the receipt key it must be signed with, the stored fields against its signed
   * body, and its approval evidence (that evidence's signature only when `approvers` are given).
   * Null when there is no such receipt.
   */
  verifyOne(seq: number, approvers: ApproverKeys | null): Promise<ReceiptCheckDto | null>;
  /** The newest `config` receipt of this kind (its `details.kind`), or null. */
  latestConfig(kind: string): Promise<ConfigReceipt | null>;
  /** Whether a `config` receipt of this kind names this approver key (an operator key recorded once). */
  hasConfigBy(kind: string, approverKeyId: string): Promise<boolean>;
  /**
   * Up to `limit` receipts from `fromSeq`, each judged as `verifyOne` judges it and linked to the
   * one before it (the first to its stored predecessor), stopping at the first that does not
   * hold: the console's whole-chain check, one chunk at a time. A `fromSeq` past the end (other
   * than 1) is refused as not found.
   */
  verifyRange(fromSeq: number, limit: number, approvers: ApproverKeys | null): Promise<ChainRangeDto>;
  /** The newest `count` receipts checked as `verifyRange` checks them: doctor's quick look. */
  verifyTail(count: number): Promise<ChainCheckDto>;
  /**
   * The tables the engine decides by (spent nonces and approvals, purge marks), which are not
   * signed, held to the receipts that witness them; up to `limit` problems, each naming the row.
   */
  sideTableProblems(limit: number): Promise<string[]>;
  /** The newest `backup` config receipt (a copy the console made), or null. */
  lastBackup(): Promise<LastBackup | null>;
}
