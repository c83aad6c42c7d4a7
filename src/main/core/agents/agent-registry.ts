import { randomBytes } from 'node:crypto';
import type { LedgerStore } from '../store/ledger-store.ts';
import type { AgentRecords, AgentRow } from '../store/agent-records.ts';
import { RecordConflict } from '../store/record-conflict.ts';
import type { Clock } from '../clock.ts';
import { isoUtc } from '../clock.ts';
import { sha256Hex } from '../json/request-hash.ts';
import { Refusal } from '../errors.ts';
import type { AgentDto } from '../../../shared/console-dto.ts';
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
  constructor(
    private readonly records: AgentRecords,
    private readonly store: LedgerStore,
    private readonly clock: Clock,
  ) {}

  /** The name of the live agent holding `token`, or null. */
  async verify(token: string): Promise<string | null> {
    if (!token.startsWith(AGENT_TOKEN_PREFIX)) return null;
    return this.records.liveNameOf(tokenHash(token));
  }

  async list(): Promise<AgentDto[]> {
    return (await this.records.list()).map(agentDto);
  }

  /** Registers `name` and returns its token, which exists nowhere else afterwards. */
  async add(name: string): Promise<{ agent: AgentDto; token: string }> {
    if (!AGENT_NAME_PATTERN.test(name))
      throw new Refusal('invalid_request', `Agent name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`);
    const taken = () => new Refusal('conflict', `An agent named '${name}' already exists (revoked names are not reused)`);
    const token = AGENT_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const agent = await this.witnessed(`agent added: ${name}`, async (agents) => {
      if ((await agents.get(name)) !== undefined) throw taken();
      try {
        await agents.insert(name, tokenHash(token), isoUtc(this.clock.now()));
      } catch (err) {
        // Another instance added it since (PostgreSQL): the same refusal as when it was seen first.
        if (err instanceof RecordConflict) throw taken();
        throw err;
      }
      return (await agents.get(name))!;
    });
    return { agent: agentDto(agent), token };
  }

  async revoke(name: string): Promise<AgentDto> {
    const agent = await this.witnessed(`agent revoked: ${name}`, async (agents) => {
      const row = await agents.get(name);
      if (!row) throw new Refusal('not_found', `No agent named '${name}'`);
      const revokedBefore = (at: string | null) => new Refusal('conflict', `Agent '${name}' was already revoked at ${at}`);
      if (row.revoked_at !== null) throw revokedBefore(row.revoked_at);
      const after = () => agents.get(name).then((r) => r!);
      // Revoked by another instance since it was read (PostgreSQL).
      if (!(await agents.revoke(name, isoUtc(this.clock.now())))) throw revokedBefore((await after()).revoked_at);
      return after();
    });
    return agentDto(agent);
  }

  /** `write` and the `config` receipt that witnesses it commit together, or neither does. */
  private witnessed(reason: string, write: (agents: AgentRecords) => Promise<AgentRow>): Promise<AgentRow> {
    return this.store.witness(async (tx) => {
      const row = await write(this.records.within(tx));
      await tx.append({ event: 'config', reason });
      return row;
    });
  }
}

function agentDto(row: AgentRow): AgentDto {
  return { name: row.name, createdAt: row.created_at, revokedAt: row.revoked_at };
}
