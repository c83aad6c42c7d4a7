import type { SqliteDatabase } from './database.ts';

/** The `settings` table: small named values the operator changes at run time (the allow-list). */
export class SettingsStore {
  private readonly read;
  private readonly write;

  constructor(db: SqliteDatabase) {
    this.read = db.prepare('SELECT value FROM settings WHERE key = ?').pluck();
    this.write = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  /** The stored text, or null when the setting was never written. */
  get(key: string): string | null {
    return (this.read.get(key) as string | undefined) ?? null;
  }

  /** Writes the setting; call inside the transaction that witnesses the change. */
  put(key: string, value: string): void {
    this.write.run(key, value);
  }
}
