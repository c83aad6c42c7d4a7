/** Registered agents and the sha256 of their tokens, with the SQLite AgentTable's methods. */
import type { AgentRow } from '../agents/agent-table.ts';
import type { JoinsWitness } from './joins-witness.ts';

export type { AgentRow };

export interface AgentRecords extends JoinsWitness<AgentRecords> {
  /** The name of the live (not revoked) agent whose token hashes to `tokenHash`, or null. */
  liveNameOf(tokenHash: string): Promise<string | null>;
  get(name: string): Promise<AgentRow | undefined>;
  /** Every agent, revoked ones too, by name. */
  list(): Promise<AgentRow[]>;
  /** Rejects with RecordConflict when the name or the token hash is taken (names are never reused). */
  insert(name: string, tokenHash: string, createdAt: string): Promise<void>;
  /** Revokes a live agent; false if there is none by that name or it was revoked already. */
  revoke(name: string, at: string): Promise<boolean>;
}
