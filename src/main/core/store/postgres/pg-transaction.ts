import { randomSalt, type SaltSource } from '../../ledger/receipt-bodies.ts';
import type pg from 'pg';
import type { Clock } from '../../clock.ts';
import { isoUtc } from '../../clock.ts';
import type { Ed25519Signer } from '../../crypto/ed25519.ts';
import type { ApprovalUse, Reservation } from '../../engine/execution-store.ts';
import { leafHash, nodeHash, type Hash } from '../../ledger/merkle/rfc9162.ts';
import { GENESIS_PREV_HASH, type ReceiptDraft } from '../../ledger/receipt-body.ts';
import { receiptFromRow } from '../../ledger/receipt-row.ts';
import { sealReceipt } from '../../ledger/seal-receipt.ts';
import type { ReceiptDto } from '../../../../shared/console-dto.ts';
import type { ApprovalSpend, LedgerHead, LedgerTransaction } from '../ledger-store.ts';
import { recordRegistration, registrationDraft, registrationSeq } from './pg-receipt-keys.ts';
import { LeftBehind } from './pg-left-behind.ts';
import { LEDGER_LOCK } from './pg-locks.ts';
import { prepared, type Prepared } from './pg-prepared.ts';
import { receiptTsvector } from './pg-search-text.ts';
import { bindSession, type PgSession } from './pg-session.ts';

// The receipt, its search words, its bodies with their salts and the Merkle nodes it completes,
// in one round trip (the CTEs run whether or not the outer INSERT has rows; the foreign keys to
// the receipt are checked at the statement's end, when it is in).
const INSERT_RECEIPT = prepared(
  'insert_receipt',
  `WITH receipt AS (INSERT INTO receipts (seq, event, time, action, hash, prev_hash, body, signature,
    reason, exec_id, proposal_id, approval_id, approver_key_id, request_hash, grant_id, agent)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)),
  words AS (INSERT INTO receipt_search (seq, event, agent, search) VALUES ($1, $2, $16, $17::tsvector)),
  bodies AS (INSERT INTO receipt_bodies (seq, field, salt, body)
    SELECT $1, field, salt, body FROM unnest($21::text[], $22::bytea[], $23::text[]) AS b (field, salt, body))
  INSERT INTO merkle_nodes (level, idx, hash) SELECT * FROM unnest($18::integer[], $19::bigint[], $20::bytea[])`,
);

// The definition and the grant use go in with the reservation, so a restart can close it; the
// instance's receipt key says whose restart that is.
const RESERVE_NONCE = prepared(
  'reserve_nonce',
  `INSERT INTO executions (id, nonce, request_hash, action, status, approved, approval_id, created_at, agent,
    action_def_hash, grant_id, grant_use, reserved_by)
  VALUES ($1, $2, $3, $4, 'started', 1, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (nonce) DO NOTHING RETURNING id`,
);

// No conflict target: a spent approval_id and a spent message hash both leave the row out.
const SPEND_APPROVAL = prepared(
  'spend_approval',
  `INSERT INTO approvals (approval_id, message_hash, tenant_id, action_hash, issued_at, expires_at,
    approver, approver_key_id, verified_at, action, used_by_exec_id)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING RETURNING approval_id`,
);

export const EARLIER_USE = prepared(
  'earlier_use',
  `SELECT approval_id, used_by_exec_id FROM approvals
  WHERE approval_id = $1 OR message_hash = $2 ORDER BY approval_id = $1 DESC LIMIT 1`,
);

const READ_HEAD = 'SELECT seq, hash FROM receipts ORDER BY seq DESC LIMIT 1';

function headOf(rows: { seq: string; hash: string }[]): LedgerHead {
  const tip = rows[0];
  return tip ? { seq: Number(tip.seq), hash: tip.hash } : { seq: 0, hash: GENESIS_PREV_HASH };
}

export async function readHead(db: pg.Pool | pg.PoolClient): Promise<LedgerHead> {
  const { rows } = await db.query<{ seq: string; hash: string }>(READ_HEAD);
  return headOf(rows);
}

/**
 * Opens a group transaction in one round trip: BEGIN, the ledger lock, the head as it stands
 * once the lock is held, and the first piece's savepoint when the group has several pieces
 * (a group of one needs none: its piece's failure rolls back the whole transaction, which is
 * that piece's part and nothing else).
 */
export async function beginGroup(client: pg.PoolClient, savepoint: boolean): Promise<LedgerHead> {
  // A simple query (no parameters) may hold several statements; the driver answers each.
  const results = (await client.query(
    `BEGIN; SELECT pg_advisory_xact_lock(${LEDGER_LOCK}); ${READ_HEAD}${savepoint ? '; SAVEPOINT piece' : ''}`,
  )) as unknown as pg.QueryResult<{ seq: string; hash: string }>[];
  return headOf(results[2]!.rows);
}

interface Mark {
  head: LedgerHead;
  appended: number;
  registered: boolean;
}

const bytes = (hex: string): Hash => Buffer.from(hex, 'hex');

/**
 * One group transaction's writes, on the connection that holds the ledger lock. Operations
 * run one at a time in call order (a piece may start several without awaiting each), and the
 * head moves in memory with each receipt, so a group of many receipts reads it once. A
 * receipt's INSERT is left behind (pg-left-behind.ts): append() answers once it is sent.
 */
export class GroupTransaction {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly session: LeftBehind;
  /**
   * Merkle nodes this group wrote, so a group of many receipts reads its left siblings from
   * memory. A rolled-back piece's nodes may stay here, but a node is written when the last
   * leaf under it is appended, so each is written again (and replaced here) before any later
   * leaf can need it.
   */
  private readonly written = new Map<string, Hash>();
  /** Receipts appended in this transaction, in seq order (announced after COMMIT). */
  readonly appended: ReceiptDto[] = [];

  /**
   * @param keyRegistered whether the ledger already holds this instance's key registration;
   *   if not, the first receipt appended is preceded by it (under the ledger lock, so two
   *   instances starting together each register once).
   */
  constructor(
    client: pg.PoolClient,
    private readonly signer: Ed25519Signer,
    private readonly clock: Clock,
    private head: LedgerHead,
    private keyRegistered: boolean,
    private readonly salts: SaltSource = randomSalt,
  ) {
    this.session = new LeftBehind(client);
  }

  /** Whether, once this group commits, the ledger holds this instance's key registration. */
  get registered(): boolean {
    return this.keyRegistered;
  }

  /** Where a piece starts: restored if its savepoint rolls back. */
  mark(): Mark {
    return { head: this.head, appended: this.appended.length, registered: this.keyRegistered };
  }

  /** Once settled() and the piece's savepoint (or the transaction) rolled back. */
  rollbackTo(mark: Mark): void {
    this.session.forget();
    this.head = mark.head;
    this.appended.length = mark.appended;
    this.keyRegistered = mark.registered;
  }

  /**
   * Waits for every operation started so far (settled either way) and the writes left behind:
   * the first of those that failed, if one did (the piece must then fail with it).
   */
  async settled(): Promise<{ err: unknown } | null> {
    await this.queue.catch(() => undefined);
    return this.session.settle();
  }

  /** A handle for one piece of work, refused once `isOpen` says the piece is over. */
  view(isOpen: () => boolean): LedgerTransaction {
    const guard =
      <A extends unknown[], R>(op: (...args: A) => Promise<R>) =>
      (...args: A): Promise<R> => {
        if (!isOpen()) return Promise.reject(new Error('this witnessed write has already ended'));
        return this.serial(() => op(...args));
      };
    const view: LedgerTransaction = {
      append: guard((draft: ReceiptDraft) => this.append(draft)),
      reserveNonce: guard((r: Reservation) => this.reserveNonce(r)),
      spendApproval: guard((s: ApprovalSpend) => this.spendApproval(s)),
    };
    // Record stores join the piece through its view (JoinsWitness.within), on this connection.
    bindSession(view, {
      query: guard((text: string | Prepared, values?: unknown[]) => this.session.query(text, values)) as PgSession['query'],
      attempt: guard((text: string, values?: unknown[]) => this.attempt(text, values)),
    });
    return view;
  }

  /** One statement in a savepoint of its own: if it fails, the piece's transaction goes on without it. */
  private async attempt(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    await this.session.query('SAVEPOINT record');
    try {
      const result = await this.session.query(text, values);
      await this.session.query('RELEASE SAVEPOINT record');
      return result;
    } catch (err) {
      await this.session.query('ROLLBACK TO SAVEPOINT record');
      await this.session.query('RELEASE SAVEPOINT record');
      throw err;
    }
  }

  private serial<R>(op: () => Promise<R>): Promise<R> {
    const next = this.queue.catch(() => undefined).then(op);
    this.queue = next;
    return next;
  }

  private async append(draft: ReceiptDraft): Promise<ReceiptDto> {
    if (!this.keyRegistered) {
      if ((await registrationSeq(this.session, this.signer.keyId)) === null) {
        const registration = await this.write(registrationDraft(this.signer));
        await recordRegistration(this.session, this.signer, registration.seq);
      }
      this.keyRegistered = true;
    }
    return this.write(draft);
  }

  private async write(draft: ReceiptDraft): Promise<ReceiptDto> {
    const previous = this.head;
    const { row, bodies } = sealReceipt(draft, previous.seq + 1, previous.hash, isoUtc(this.clock.now()), this.signer, this.salts);
    const nodes = await this.newNodes(row.seq - 1, bytes(row.hash), previous.seq === 0 ? null : bytes(previous.hash));
    this.session.leave(INSERT_RECEIPT, [
      row.seq,
      row.event,
      row.time,
      row.action,
      row.hash,
      row.prev_hash,
      row.body,
      row.signature,
      row.reason,
      row.exec_id,
      row.proposal_id,
      row.approval_id,
      row.approver_key_id,
      row.request_hash,
      row.grant_id,
      draft.agent ?? null,
      receiptTsvector(draft),
      nodes.map((n) => n.level),
      nodes.map((n) => n.idx),
      nodes.map((n) => Buffer.from(n.hash)),
      bodies.map((b) => b.field),
      bodies.map((b) => b.salt),
      bodies.map((b) => b.text),
    ]);
    for (const n of nodes) this.written.set(`${n.level}/${n.idx}`, n.hash);
    this.head = { seq: row.seq, hash: row.hash };
    const dto = receiptFromRow(
      { ...row, agent: draft.agent ?? null },
      bodies.map((b) => ({ field: b.field, salt: b.salt.toString('hex'), text: b.text, purgedAt: null, purgeSeq: null })),
    );
    this.appended.push(dto);
    return dto;
  }

  /** The Merkle tree's perfect subtrees that leaf `index` completes (the layout MerkleStore keeps on SQLite). */
  private async newNodes(index: number, receiptHash: Hash, previousReceiptHash: Hash | null) {
    const nodes: { level: number; idx: number; hash: Hash }[] = [];
    let node = leafHash(receiptHash);
    let level = 0;
    let i = index;
    while (i % 2 === 1) {
      // Left siblings are earlier leaves' nodes, never one computed here.
      const left =
        level === 0 ? leafHash(previousReceiptHash!) : (this.written.get(`${level}/${i - 1}`) ?? (await this.storedNode(level, i - 1)));
      node = nodeHash(left, node);
      level++;
      i = (i - 1) / 2;
      nodes.push({ level, idx: i, hash: node });
    }
    return nodes;
  }

  private async storedNode(level: number, index: number): Promise<Hash> {
    const { rows } = await this.session.query<{ hash: Buffer }>('SELECT hash FROM merkle_nodes WHERE level = $1 AND idx = $2', [
      level,
      index,
    ]);
    if (rows[0] === undefined) throw new Error(`Merkle node ${level}/${index} is missing`);
    return rows[0].hash;
  }

  private async reserveNonce(r: Reservation): Promise<boolean> {
    const { rowCount } = await this.session.query(RESERVE_NONCE, [
      r.id,
      r.nonce,
      r.request_hash,
      r.action,
      r.approval_id,
      r.created_at,
      r.agent,
      r.action_def_hash,
      r.grant_id,
      r.grant_use,
      this.signer.keyId,
    ]);
    return rowCount === 1;
  }

  private async spendApproval({ approval: a, action, verifiedAt, execId }: ApprovalSpend): Promise<ApprovalUse | null> {
    const inserted = await this.session.query(SPEND_APPROVAL, [
      a.approvalId,
      a.messageHash,
      a.tenantId,
      a.actionHash,
      a.issuedAt,
      a.expiresAt,
      a.approver,
      a.approverKeyId,
      verifiedAt,
      action,
      execId,
    ]);
    if (inserted.rowCount === 1) return null;
    const { rows } = await this.session.query<{ approval_id: string; used_by_exec_id: string }>(EARLIER_USE, [a.approvalId, a.messageHash]);
    const earlier = rows[0];
    if (earlier === undefined) throw new Error(`approval ${a.approvalId} was neither spent now nor before`);
    return { approvalId: earlier.approval_id, execId: earlier.used_by_exec_id };
  }
}
