import { isJsonObject } from '../../json/json-value.ts';
import { parseJson } from '../../json/parse.ts';
import type { GrantEnding, GrantRecords, GrantRow, NewGrant } from '../grant-records.ts';
import type { LedgerTransaction } from '../ledger-store.ts';
import { sessionOf, unique, type PgSession } from './pg-session.ts';

type PgGrantRow = Omit<GrantRow, 'ended_seq'> & { ended_seq: string | null };

const row = (r: PgGrantRow): GrantRow => ({ ...r, ended_seq: r.ended_seq === null ? null : Number(r.ended_seq) });

const COLUMNS = 'id, action, body, signature, key_id, boot_id, uses_spent, created_at, ended_at, ended_reason, ended_seq';

// The count read, the grant live and below its limit: of several callers that read the same
// count, the one whose UPDATE takes the row lock first moves it; the others wait for that lock,
// re-read the row (READ COMMITTED) and match nothing. A revocation committed first ends it.
const SPEND = `UPDATE grants SET uses_spent = uses_spent + 1
  WHERE id = $1 AND uses_spent = $2 AND ended_at IS NULL AND (uses_limit IS NULL OR uses_spent < uses_limit)`;

const END = 'UPDATE grants SET ended_at = $2, ended_reason = $3, ended_seq = $4 WHERE id = $1 AND ended_at IS NULL';

/**
 * The signed terms' `limit.uses`, which the database then holds the count to (a CHECK), as a
 * second wall behind the dispatch's own check. Null when the body states none or does not
 * parse: such a grant fails verification and authorises nothing anyway.
 */
export function usesLimitOf(body: string): number | null {
  try {
    const terms = parseJson(body);
    const limit = isJsonObject(terms) ? terms['limit'] : undefined;
    const uses = isJsonObject(limit) ? limit['uses'] : undefined;
    return typeof uses === 'bigint' && uses >= 1n && uses <= 2_147_483_647n ? Number(uses) : null;
  } catch {
    return null;
  }
}

/** Grants on PostgreSQL (README "PostgreSQL"). */
export class PostgresGrantRecords implements GrantRecords {
  constructor(private readonly db: PgSession) {}

  within(tx: LedgerTransaction): GrantRecords {
    return new PostgresGrantRecords(sessionOf(tx));
  }

  private async rows(sql: string, values: unknown[] = []): Promise<GrantRow[]> {
    return (await this.db.query<PgGrantRow>(sql, values)).rows.map(row);
  }

  async insert(g: NewGrant): Promise<void> {
    await unique(
      this.db,
      'grants',
      `INSERT INTO grants (id, action, body, signature, key_id, boot_id, created_at, uses_limit)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [g.id, g.action, g.body, g.signature, g.key_id, g.boot_id, g.created_at, usesLimitOf(g.body)],
    );
  }

  async get(id: string): Promise<GrantRow | undefined> {
    return (await this.rows(`SELECT ${COLUMNS} FROM grants WHERE id = $1`, [id]))[0];
  }

  live(action?: string): Promise<GrantRow[]> {
    return action === undefined
      ? this.rows(`SELECT ${COLUMNS} FROM grants WHERE ended_at IS NULL ORDER BY created_at, id`)
      : this.rows(`SELECT ${COLUMNS} FROM grants WHERE action = $1 AND ended_at IS NULL ORDER BY created_at, id`, [action]);
  }

  latest(limit: number): Promise<GrantRow[]> {
    return this.rows(`SELECT ${COLUMNS} FROM grants ORDER BY created_at DESC, id LIMIT $1`, [limit]);
  }

  async spend(id: string, spentBefore: number): Promise<boolean> {
    return (await this.db.query(SPEND, [id, spentBefore])).rowCount === 1;
  }

  async end(id: string, reason: GrantEnding, at: string, seq: number): Promise<boolean> {
    return (await this.db.query(END, [id, at, reason, seq])).rowCount === 1;
  }
}
