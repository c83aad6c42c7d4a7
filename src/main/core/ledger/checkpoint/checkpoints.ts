import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { NotRegularFileError, readRegularFile } from '../../read-regular-file.ts';
import { join } from 'node:path';
import type { CheckpointRecords } from '../../store/checkpoint-records.ts';
import type { LedgerStore } from '../../store/ledger-store.ts';
import { RecordConflict } from '../../store/record-conflict.ts';
import { Ed25519Verifier, type Ed25519Signer } from '../../crypto/ed25519.ts';
import { isoUtc, type Clock } from '../../clock.ts';
import type { MerkleTreeReads } from '../merkle/merkle-tree-reads.ts';
import { Refusal } from '../../errors.ts';
import { hashesEqual } from '../merkle/rfc9162.ts';
import { cosignNote, noteSignedBy, parseNote } from './signed-note.ts';
import {
  CheckpointError,
  ledgerOrigin,
  operatorWitnessName,
  signCheckpoint,
  verifyCheckpointNote,
  type VerifiedCheckpoint,
} from './checkpoint-note.ts';
import type { StoredCheckpoint } from './checkpoint-table.ts';

export type { StoredCheckpoint };

export interface CheckpointOptions {
  /** Issue one when this many receipts were added since the last… */
  every: number;
  /** …or when any were added and this long has passed. */
  intervalMs: number;
  /** Where every checkpoint is copied, co-signed by the operator; null: not witnessed. */
  witnessDir: string | null;
}

export interface WitnessedCheckpoint extends VerifiedCheckpoint {
  file: string;
}

/** A co-signed note is a few hundred bytes; anything far larger in the witness directory is not one. */
const MAX_NOTE_BYTES = 64 * 1024;
const WITNESS_FILE = /^checkpoint-(\d+)\.txt$/;

/**
 * Signed checkpoints of the receipts' Merkle tree: owner of the `checkpoints` table and of the
 * witness directory. A checkpoint commits the ledger to its first N receipts; anyone holding
 * one can later demand a consistency proof, so removing or rewriting receipts it covers is
 * caught, which a hash chain alone cannot do for its newest receipts. The table is read and
 * written through CheckpointRecords, an issue being a witnessed write on the LedgerStore (with
 * no receipt of its own); the tree and its size are read through MerkleTreeReads, so the same
 * cadence runs on SQLite and on a PostgreSQL ledger several instances share (there each
 * checkpoint is signed by the instance that issues it, once its key is registered).
 */
export class Checkpoints {
  readonly origin: string;
  private timer: NodeJS.Timeout | null = null;
  private unsubscribe: (() => void) | null = null;
  private scheduled = false;
  /** The size of the latest checkpoint as this process last knew it; null until read. */
  private checkpointedSize: number | null = null;
  private witnessError: string | null = null;

  constructor(
    private readonly records: CheckpointRecords,
    private readonly store: LedgerStore,
    private readonly tree: MerkleTreeReads,
    private readonly receiptSigner: Ed25519Signer,
    private readonly operatorSigner: Ed25519Signer,
    private readonly clock: Clock,
    private readonly options: CheckpointOptions,
  ) {
    this.origin = ledgerOrigin(receiptSigner.keyId);
  }

  latest(): Promise<StoredCheckpoint | null> {
    return this.records.latest();
  }

  at(size: number): Promise<StoredCheckpoint | null> {
    return this.records.at(size);
  }

  /** A checkpoint of the ledger as it is now (the stored one when nothing was added since). */
  async issue(): Promise<StoredCheckpoint> {
    const checkpoint = await this.store.witness(async (tx): Promise<StoredCheckpoint> => {
      const records = this.records.within(tx);
      const size = await this.tree.size();
      const existing = await records.at(size);
      if (existing) return existing;
      const registered = await this.tree.keyRegisteredAt(this.receiptSigner.keyId);
      if (registered === null || registered > size) {
        throw new Refusal(
          'conflict',
          `receipt key ${this.receiptSigner.keyId} is not registered in the ledger's first ${size} receipts: an instance signs checkpoints once it has appended a receipt`,
        );
      }
      const root = await this.tree.root(size);
      const note = signCheckpoint({ origin: this.origin, size, root }, this.receiptSigner);
      const issued = { size, root, note, createdAt: isoUtc(this.clock.now()) };
      try {
        await records.insert(issued);
      } catch (err) {
        // Another instance checkpointed this size first (PostgreSQL): one per size, that one.
        if (!(err instanceof RecordConflict)) throw err;
        return (await records.at(size))!;
      }
      return issued;
    });
    this.checkpointedSize = Math.max(this.checkpointedSize ?? 0, checkpoint.size);
    if (this.options.witnessDir !== null) this.witness(checkpoint);
    return checkpoint;
  }

  /** Issues checkpoints on the configured cadence until `stop`. */
  start(): void {
    // Called for every receipt: it compares the receipt's seq (the ledger's size once it is
    // committed) with the size last checkpointed, kept here, instead of asking the database.
    this.unsubscribe = this.store.subscribe((receipts) => {
      const seq = receipts[receipts.length - 1]?.seq;
      if (seq === undefined || this.scheduled) return;
      if (this.checkpointedSize !== null && seq - this.checkpointedSize < this.options.every) return;
      this.scheduled = true;
      // After the group commit that announced the receipts, never inside it.
      setImmediate(() => void this.issueIfDue(seq));
    });
    this.timer = setInterval(() => void this.issueIfGrown(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  get witnessDir(): string | null {
    return this.options.witnessDir;
  }

  /** The problem with the witness directory, if copying the last checkpoint there failed. */
  witnessProblem(): string | null {
    return this.witnessError;
  }

  /**
   * The largest checkpoint in the witness directory that both signatures vouch for; null when
   * there is none yet (no directory, or nothing in it verifies). A directory or note that is
   * there but cannot be read throws a CheckpointError: reading past it would compare the ledger
   * with an older checkpoint, or with none, without saying so.
   */
  latestWitnessed(): WitnessedCheckpoint | null {
    const dir = this.options.witnessDir;
    if (dir === null) return null;
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new CheckpointError(`cannot list the witness directory ${dir}: ${errnoOf(err)}`);
    }
    const receiptVerifier = new Ed25519Verifier(this.receiptSigner.publicKey);
    const operatorVerifier = new Ed25519Verifier(this.operatorSigner.publicKey);
    const sizes = files.flatMap((f) => {
      const m = WITNESS_FILE.exec(f);
      return m ? [{ file: join(dir, f), size: Number(m[1]) }] : [];
    });
    sizes.sort((a, b) => b.size - a.size);
    for (const { file } of sizes) {
      let note: string;
      try {
        // Not a note if it is not a small regular file: a FIFO here would block the whole server.
        note = readRegularFile(file, MAX_NOTE_BYTES);
      } catch (err) {
        // Gone since it was listed, or not a note at all: nothing to compare with.
        if (err instanceof NotRegularFileError || (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new CheckpointError(`cannot read ${file} in the witness directory: ${errnoOf(err)}`);
      }
      try {
        const verified = verifyCheckpointNote(note, receiptVerifier);
        if (!noteSignedBy(parseNote(note), operatorWitnessName(operatorVerifier.keyId), operatorVerifier)) continue;
        return { ...verified, file };
      } catch {
        continue;
      }
    }
    return null;
  }

  /**
   * Start-up: a ledger shorter than, or not an extension of, the last witnessed checkpoint
   * has lost or rewritten receipts since; refuse it rather than append to it.
   */
  async checkAgainstWitness(): Promise<void> {
    const witnessed = this.latestWitnessed();
    if (witnessed === null) return;
    const size = await this.tree.size();
    if (size < witnessed.size) {
      throw new CheckpointError(
        `the ledger has ${size} receipts, fewer than the ${witnessed.size} of the checkpoint witnessed in ${witnessed.file}: ` +
          'receipts were removed after it was witnessed (restore the ledger from a backup)',
      );
    }
    if (!hashesEqual(await this.tree.root(witnessed.size), witnessed.root)) {
      throw new CheckpointError(
        `the ledger's first ${witnessed.size} receipts do not match the checkpoint witnessed in ${witnessed.file}: ` +
          'they were rewritten after it was witnessed',
      );
    }
  }

  /** The size last checkpointed is read once, the first time a receipt asks. */
  private async issueIfDue(seq: number): Promise<void> {
    try {
      this.checkpointedSize ??= (await this.latest())?.size ?? 0;
      if (seq - this.checkpointedSize >= this.options.every) await this.issue();
    } catch {
      // A checkpoint is issued again on the next receipt or tick; the ledger itself is intact.
    } finally {
      this.scheduled = false;
    }
  }

  private async issueIfGrown(): Promise<void> {
    try {
      if ((await this.tree.size()) > ((await this.latest())?.size ?? 0)) await this.issue();
    } catch {
      // As above: the next tick tries again.
    }
  }

  private witness(checkpoint: StoredCheckpoint): void {
    const dir = this.options.witnessDir!;
    const file = join(dir, `checkpoint-${checkpoint.size}.txt`);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const cosigned = cosignNote(checkpoint.note, operatorWitnessName(this.operatorSigner.keyId), this.operatorSigner);
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, cosigned, { mode: 0o644 });
      renameSync(tmp, file);
      this.witnessError = null;
    } catch (err) {
      this.witnessError = `could not copy checkpoint ${checkpoint.size} to ${dir}: ${(err as Error).message}`;
    }
  }
}

/** An fs error as its code (EACCES, EIO …), or its message. */
function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
}
