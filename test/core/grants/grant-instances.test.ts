/**
 * An `until_restart` grant on a PostgreSQL database shared by two instances (two data
 * directories, one operator key, one database): it belongs to the run of the instance that
 * issued it. The other instance neither uses it nor ends it; the issuer's restart ends it.
 */
import { copyFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../../src/main/app/config.ts';
import { OpenExecCore } from '../../../src/main/core/openexec-core.ts';
import { GrantService } from '../../../src/main/core/grants/grant-service.ts';
import { parseJson } from '../../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../../src/main/core/json/json-value.ts';
import { tempDir } from '../../support/harness.ts';
import { postgresAvailability } from '../../support/postgres.ts';
import { usePostgres } from '../../support/postgres-suite.ts';

const obj = (text: string) => parseJson(text) as JsonObject;
const SCHEMA = obj('{"type":"object","properties":{"body":{"type":"string"}},"required":["body"]}');

describe.skipIf(!postgresAvailability().ok)('until_restart grants on a database two instances share', () => {
  const pgs = usePostgres('grantrun');
  const dirs: string[] = [];
  const cores = new Set<OpenExecCore>();
  afterAll(async () => {
    for (const core of cores) await core.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  test("the other instance neither uses nor ends it; the issuer's restart ends it, with a receipt", async () => {
    const db = await pgs.fresh();
    const [dirA, dirB] = [tempDir('grant-run-a-'), tempDir('grant-run-b-')];
    dirs.push(dirA, dirB);
    const ran: string[] = [];
    const open = async (dir: string, name: string) => {
      const core = await OpenExecCore.open({
        ...loadConfig({ OPENEXEC_DATA_DIR: dir, OPENEXEC_MODE: 'clawshield', OPENEXEC_DB_URL: db.appUrl }),
        extraActions: { send: async (payload) => (ran.push(`${name}:${String(payload['body'])}`), payload) },
      });
      cores.add(core);
      return core;
    };
    let a = await open(dirA, 'A');
    // One operator for both consoles: B trusts the key A's grants are signed with.
    copyFileSync(join(dirA, 'operator-key.pem'), join(dirB, 'operator-key.pem'));
    const b = await open(dirB, 'B');
    const issued = await new GrantService(a).issue({
      action: 'send',
      agent: null,
      fixed: obj('{"to":"cfo"}'),
      schema: SCHEMA,
      reason: 'this session only',
      untilRestart: true,
    });
    let n = 0;
    const send = (core: OpenExecCore) =>
      core.engine.execute({ action: 'send', payload: obj(`{"to":"cfo","body":"m${++n}"}`), nonce: `g-${n}`, artifact: null });

    // At B the grant authorises nothing and stays live: B's listing, its dispatch and its
    // start-up's sweep of grants that are over all leave it alone.
    expect((await send(b)).kind).not.toBe('executed');
    expect(await new GrantService(b).list()).toEqual([expect.objectContaining({ id: issued.id, status: 'live' })]);
    const dirB2 = tempDir('grant-run-b2-');
    dirs.push(dirB2);
    copyFileSync(join(dirA, 'operator-key.pem'), join(dirB2, 'operator-key.pem'));
    const b2 = await open(dirB2, 'B2');
    await b2.close();
    cores.delete(b2);
    expect((await new GrantService(a).get(issued.id))?.status).toBe('live');
    // At A, the run that issued it, it authorises.
    expect((await send(a)).kind).toBe('executed');
    expect(ran).toEqual(['A:m2']);

    // A restarts (same data directory, same receipt key): over, with a receipt.
    await a.close();
    cores.delete(a);
    a = await open(dirA, 'A');
    expect((await new GrantService(a).get(issued.id))?.status).toBe('restart');
    const endings = (await a.ledgerStore.search({ id: issued.id, limit: 100 })).items.filter((r) => r.event === 'config');
    expect(endings.map((r) => r.reason)).toEqual([expect.stringMatching(/restart/), expect.stringMatching(/issued|grant/)]);
    expect((await send(a)).kind).not.toBe('executed');
  });
});
