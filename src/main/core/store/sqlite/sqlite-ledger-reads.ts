import type { ChainCheckDto, ChainRangeDto, ReceiptCheckDto, ReceiptWithNeighboursDto } from '../../../../shared/console-dto.ts';
import type { ApproverKeys } from '../../approval/check-evidence.ts';
import type { Ed25519Verifier } from '../../crypto/ed25519.ts';
import type { LedgerReader } from '../../ledger/ledger-reader.ts';
import type { ConfigReceipt, LastBackup, LedgerReads } from '../ledger-reads.ts';
import type { LedgerTransaction } from '../ledger-store.ts';

/**
 * The ledger's reads on SQLite, over the ledger's own reader on the core's connection. A SQLite
 * ledger has one receipt key (sqlite-ledger-store.ts), so every receipt is verified with it.
 * `within` a witnessed write each read first checks that the piece is still open (`pieceOpen`,
 * the store's assertOpenPiece), as the SQLite record stores do.
 */
export class SqliteLedgerReads implements LedgerReads {
  constructor(
    private readonly reader: LedgerReader,
    private readonly verifier: Ed25519Verifier,
    private readonly pieceOpen: (tx: LedgerTransaction) => void,
    private readonly tx: LedgerTransaction | null = null,
  ) {}

  within(tx: LedgerTransaction): LedgerReads {
    this.pieceOpen(tx);
    return new SqliteLedgerReads(this.reader, this.verifier, this.pieceOpen, tx);
  }

  private get read(): LedgerReader {
    if (this.tx !== null) this.pieceOpen(this.tx);
    return this.reader;
  }

  async withNeighbours(seq: number): Promise<ReceiptWithNeighboursDto | null> {
    return this.read.withNeighbours(seq);
  }

  async verifyOne(seq: number, approvers: ApproverKeys | null): Promise<ReceiptCheckDto | null> {
    return this.read.verifyOne(this.verifier, seq, approvers);
  }

  async latestConfig(kind: string): Promise<ConfigReceipt | null> {
    return this.read.latestConfig(kind);
  }

  async hasConfigBy(kind: string, approverKeyId: string): Promise<boolean> {
    return this.read.hasConfigBy(kind, approverKeyId);
  }

  async verifyRange(fromSeq: number, limit: number, approvers: ApproverKeys | null): Promise<ChainRangeDto> {
    return this.read.verifyRange(this.verifier, fromSeq, limit, approvers);
  }

  async verifyTail(count: number): Promise<ChainCheckDto> {
    return this.read.verifyTail(this.verifier, count);
  }

  async sideTableProblems(limit: number): Promise<string[]> {
    return this.read.sideTableProblems(limit);
  }

  async lastBackup(): Promise<LastBackup | null> {
    return this.read.lastBackup();
  }
}
