import type { ConsoleApi } from '../../../shared/console-api.ts';
import type { ChainCheckDto, ChainRangeDto, CheckpointDto, CheckpointStatusDto, InclusionProofDto } from '../../../shared/console-dto.ts';
import type { LedgerReads } from '../store/ledger-reads.ts';
import type { ExportQuery } from '../../../shared/console-schemas.ts';
import type { BackupDto } from '../../../shared/hardening.ts';
import type { StoredCheckpoint, WitnessedCheckpoint } from '../ledger/checkpoint/checkpoints.ts';
import type { OpenExecCore } from '../openexec-core.ts';
import { Refusal } from '../errors.ts';
import { approverKeyMap } from '../approval/check-evidence.ts';
import { OPERATOR_KEY_RECEIPT_KIND, recordedOperatorKey } from '../approval/operator-registry.ts';
import { buildBundle } from '../ledger/bundle/build-bundle.ts';
import { guarded, keyInfo } from './console-guard.ts';

/** Receipts per chunk of a whole-chain check: the event loop gets a turn between chunks. */
const WHOLE_CHAIN_CHUNK = 10_000;

type LedgerMethods =
  | 'searchReceipts'
  | 'countReceipts'
  | 'getReceipt'
  | 'verifyReceipt'
  | 'verifyChain'
  | 'verifyChainRange'
  | 'receiptPublicKey'
  | 'issueCheckpoint'
  | 'inclusionProof'
  | 'exportBundle'
  | 'backup';

/** The console's view of the ledger: search, verification, checkpoints, proofs, bundles and backups. */
export class ConsoleLedger implements Pick<ConsoleApi, LedgerMethods> {
  constructor(
    private readonly core: OpenExecCore,
    private readonly onBackup: (backup: BackupDto) => void,
  ) {}

  searchReceipts(query: Parameters<ConsoleApi['searchReceipts']>[0]) {
    return guarded(() => this.core.ledgerStore.search(query));
  }

  countReceipts(query: Parameters<ConsoleApi['countReceipts']>[0]) {
    return guarded(() => this.core.ledgerStore.count(query));
  }

  getReceipt(input: { seq: number }) {
    return guarded(async () => {
      const { seq } = input;
      const found = await this.core.ledgerStore.reads.withNeighbours(seq);
      if (!found) throw new Refusal('not_found', `No receipt ${seq}`);
      return found;
    });
  }

  verifyReceipt(input: { seq: number }) {
    return guarded(async () => {
      const { seq } = input;
      const check = await this.core.ledgerStore.reads.verifyOne(seq, await this.approvers());
      if (!check) throw new Refusal('not_found', `No receipt ${seq}`);
      return check;
    });
  }

  verifyChain() {
    return guarded(async (): Promise<ChainCheckDto> => {
      const reads = this.core.ledgerStore.reads;
      let checked = 0;
      for (let from: number | null = 1; from !== null;) {
        const chunk = await this.verifyChainRangeOf(reads, from, WHOLE_CHAIN_CHUNK);
        checked += chunk.checked;
        if (!chunk.valid) return { valid: false, checked, firstBadSeq: chunk.firstBadSeq, problem: chunk.problem };
        from = chunk.nextSeq;
      }
      return { valid: true, checked, firstBadSeq: null, problem: null };
    });
  }

  verifyChainRange(input: { fromSeq: number; limit: number }) {
    return guarded(() => this.verifyChainRangeOf(this.core.ledgerStore.reads, input.fromSeq, input.limit));
  }

  private async verifyChainRangeOf(reads: LedgerReads, fromSeq: number, limit: number): Promise<ChainRangeDto> {
    const range = await reads.verifyRange(fromSeq, limit, await this.approvers());
    // The last chunk of a whole-ledger check also holds the side tables to the receipts.
    const side = range.valid && range.nextSeq === null ? await reads.sideTableProblems(1) : [];
    return side.length === 0 ? range : { ...range, valid: false, problem: `side tables: ${side[0]}` };
  }

  receiptPublicKey() {
    return guarded(() => keyInfo(this.core.receiptVerifier.publicKey, this.core.receiptVerifier.keyId));
  }

  issueCheckpoint() {
    return guarded(async (): Promise<CheckpointDto> => this.checkpointDto(await this.core.checkpoints.issue()));
  }

  inclusionProof(input: { seq: number }) {
    return guarded(async (): Promise<InclusionProofDto> => {
      const { core } = this;
      if (!(input.seq >= 1 && input.seq <= (await core.ledgerStore.head()).seq)) throw new Refusal('not_found', `No receipt ${input.seq}`);
      const latest = await core.checkpoints.latest();
      const checkpoint = latest !== null && latest.size >= input.seq ? latest : await core.checkpoints.issue();
      const p = await core.proofs.inclusionIn(input.seq, checkpoint.size);
      return {
        checkpoint: this.checkpointDto(checkpoint),
        leafIndex: p.leaf_index,
        treeSize: p.tree_size,
        receiptHash: p.receipt_hash,
        proof: p.proof,
        rootHash: p.root_hash,
      };
    });
  }

  exportBundle(query: ExportQuery) {
    return guarded(() => buildBundle(this.core, query));
  }

  backup(input: { path: string }) {
    return guarded(async () => {
      const b = await this.core.backup(input.path);
      // A checkpoint now covers the backup receipt; with OPENEXEC_WITNESS_DIR its copy outside
      // the data directory makes a later start on the (shorter) restored copy refuse.
      try {
        await this.core.checkpoints.issue();
      } catch {
        // Issued again on the next receipt or tick; the backup stands.
      }
      this.onBackup(b);
      return b;
    });
  }

  /** The checkpoint part of `health`. */
  async checkpointStatus(): Promise<CheckpointStatusDto> {
    const { checkpoints } = this.core;
    const latest = await checkpoints.latest();
    let witnessed: WitnessedCheckpoint | null = null;
    let unreadable: string | null = null;
    try {
      witnessed = checkpoints.latestWitnessed();
    } catch (err) {
      unreadable = (err as Error).message;
    }
    return {
      latest: latest && { size: latest.size, rootHash: Buffer.from(latest.root).toString('hex'), createdAt: latest.createdAt },
      witnessDir: checkpoints.witnessDir,
      witnessed: witnessed && { size: witnessed.size, file: witnessed.file },
      witnessProblem: unreadable ?? checkpoints.witnessProblem(),
    };
  }

  /**
   * The approver keys receipts' approval evidence must verify with: ClawShield's key, every
   * operator key loaded here (operators added while running too), and the operator keys the
   * ledger records, which on a shared PostgreSQL ledger include other instances' operators. A
   * recorded key is as trustworthy as the receipt key that signed its record, which this check
   * takes from the ledger's own registrations too (README, "PostgreSQL").
   */
  private async approvers() {
    const recorded = await this.core.ledgerStore.reads.configsOf(OPERATOR_KEY_RECEIPT_KIND);
    return approverKeyMap([
      ...this.core.operators.approvers.map((a) => a.verifier),
      ...recorded.flatMap((r) => recordedOperatorKey(r.body) ?? []),
    ]);
  }

  private checkpointDto(checkpoint: StoredCheckpoint): CheckpointDto {
    const c = this.core.proofs.checkpointView(checkpoint);
    return { origin: c.origin, size: c.size, rootHash: c.root_hash, createdAt: c.created_at, note: c.note };
  }
}
