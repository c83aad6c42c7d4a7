import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../../src/main/app/config.ts';
import { OpenExecCore, type LoadedManifest } from '../../../src/main/core/openexec-core.ts';
import { buildManifest } from '../../../src/main/core/actions/declared/manifest.ts';
import { verifyChain } from '../../../src/main/core/ledger/verify-ledger.ts';
import { tempDir } from '../../support/harness.ts';
import { stringSchema } from '../../support/declared.ts';
import { rawDb } from '../../support/raw-db.ts';

const action = (argv: string[]) => ({
  kind: 'run',
  description: 'd',
  risk: 'low',
  program: '/bin/echo',
  argv,
  payload_schema: stringSchema('x'),
});

function manifestOf(actions: Record<string, unknown>): LoadedManifest {
  return { path: '/etc/openexec/actions.yaml', ...buildManifest({ actions }, { dataDir: tempDir(), env: {} }, ['echo', 'add']) };
}

describe('the manifest config receipt', () => {
  test('written when the manifest appears, changes or goes away; not when it stays the same', async () => {
    const dataDir = tempDir();
    const open = async (manifest: LoadedManifest | null) => {
      const core = await OpenExecCore.open({ ...loadConfig({ OPENEXEC_DATA_DIR: dataDir }), manifest });
      const details = rawDb(core)
        .prepare("SELECT body FROM receipts WHERE event = 'config' ORDER BY seq")
        .pluck()
        .all()
        .map((b) => JSON.parse(b as string) as { reason: string; details: Record<string, unknown> });
      const valid = verifyChain(rawDb(core), core.receiptVerifier).valid;
      core.close();
      return { details, valid };
    };
    const first = manifestOf({ a: action(['{x}']), b: action(['b', '{x}']) });
    const second = manifestOf({ a: action(['{x}']), b: action(['B', '{x}']), c: action(['{x}']) });
    expect((await open(first)).details).toHaveLength(1);
    expect((await open(first)).details).toHaveLength(1);
    const { details, valid } = await open(second);
    expect(valid).toBe(true);
    expect(details[1]!.details).toMatchObject({
      kind: 'actions-manifest',
      manifest_hash: second.hash,
      previous_hash: first.hash,
      added: ['c'],
      removed: [],
      changed: ['b'],
      actions: second.definitions,
    });
    expect(details[1]!.reason).toBe('actions manifest: /etc/openexec/actions.yaml (3 actions); added c; changed b');
    const gone = (await open(null)).details;
    expect(gone[2]!.details).toMatchObject({ manifest: null, manifest_hash: null, previous_hash: second.hash, removed: ['a', 'b', 'c'] });
    expect((await open(null)).details).toHaveLength(3);
  });
});
