/** Small named values the operator changes at run time (the allow-list), with the SQLite SettingsStore's methods. */
import type { JoinsWitness } from './joins-witness.ts';

export interface SettingRecords extends JoinsWitness<SettingRecords> {
  /** The stored text, or null when the setting was never written. */
  get(key: string): Promise<string | null>;
  /** Writes the setting; call within the transaction that witnesses the change. */
  put(key: string, value: string): Promise<void>;
}
