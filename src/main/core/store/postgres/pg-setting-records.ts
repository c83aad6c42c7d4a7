import type { LedgerTransaction } from '../ledger-store.ts';
import type { SettingRecords } from '../setting-records.ts';
import { sessionOf, type PgSession } from './pg-session.ts';

/** Settings on PostgreSQL: one value per key, written in place. */
export class PostgresSettingRecords implements SettingRecords {
  constructor(private readonly db: PgSession) {}

  within(tx: LedgerTransaction): SettingRecords {
    return new PostgresSettingRecords(sessionOf(tx));
  }

  async get(key: string): Promise<string | null> {
    return (await this.db.query<{ value: string }>('SELECT value FROM settings WHERE key = $1', [key])).rows[0]?.value ?? null;
  }

  async put(key: string, value: string): Promise<void> {
    await this.db.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [
      key,
      value,
    ]);
  }
}
