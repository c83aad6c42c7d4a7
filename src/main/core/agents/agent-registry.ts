import { randomBytes } from 'node:crypto';
import type { SqliteDatabase } from '../store/database.ts';
import type { Ledger } from '../ledger/ledger.ts';
import type { Clock } from '../clock.ts';
import { isoUtc } from '../clock.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { Refusal } from '../errors.ts';
import type { AgentDto } from '../../../shared/console-dto.ts';
import { AgentTable, type AgentRow } from './agent-table.ts';
import { AGENT_NAME_PATTERN } from '../../../shared/console-schemas.ts';

/** Every token starts with this, so a leaked one is recognisable (and greppable) as ours. */
export const AGENT_TOKEN_PREFIX = 'oxa_';

const tokenHash = (token: string) => sha256Hex(token);

/**
 * Named agents and their bearer tokens. A token is 256 random bits, shown once; only its
 * sha256 is stored, so the database alone never yields a usable token. Adding and revoking are
 * `config` receipts. A token says which registered agent sent a request; it says nothing about
 * what that agent is or whether its host is honest (SECURITY.md, "Agent identity").
 */
export class AgentRegistry {
  private readonly table: AgentTable;

  constructor(
    db: SqliteDatabase,
    private readonly ledger: Ledger,
    private readonly clock: Clock,
  ) {
    this.table = new AgentTable(db);
  }

  /** The name of the live agent holding `token`, or null. */
  verify(token: string): string | null {
    if (!token.startsWith(AGENT_TOKEN_PREFIX)) return null;
    return this.table.liveNameOf(tokenHash(token));
  }

  list(): AgentDto[] {
    return this.table.list().map(agentDto);
  }

  /** Registers `name` and returns its token, which exists nowhere else afterwards. */
  add(name: string): { agent: AgentDto; token: string } {
    if (!AGENT_NAME_PATTERN.test(name))
      throw new Refusal('invalid_request', `Agent name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`);
    if (this.table.get(name) !== undefined)
      throw new Refusal('conflict', `An agent named '${name}' already exists (revoked names are not reused)`);
    const token = AGENT_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    this.witnessed(`agent added: ${name}`, () => this.table.insert(name, tokenHash(token), isoUtc(this.clock.now())));
    return { agent: agentDto(this.table.get(name)!), token };
  }

  revoke(name: string): AgentDto {
    const row = this.table.get(name);
    if (!row) throw new Refusal('not_found', `No agent named '${name}'`);
    if (row.revoked_at !== null) throw new Refusal('conflict', `Agent '${name}' was already revoked at ${row.revoked_at}`);
    this.witnessed(`agent revoked: ${name}`, () => this.table.revoke(name, isoUtc(this.clock.now())));
    return agentDto(this.table.get(name)!);
  }

  private witnessed(reason: string, write: () => void): void {
    this.ledger.witness(() => {
      write();
      this.ledger.append({ event: 'config', reason });
    });
  }
}

function agentDto(row: AgentRow): AgentDto {
  return { name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at };
}
