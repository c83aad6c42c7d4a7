import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { loadConfig } from '../../../src/main/app/config.ts';
import { OpenExecCore, type LoadedManifest } from '../../../src/main/core/openexec-core.ts';
import { buildManifest } from '../../../src/main/core/actions/declared/manifest.ts';
import { addOperator } from '../../../src/main/core/crypto/operator-keys.ts';
import { ProposalService } from '../../../src/main/core/proposals/proposal-service.ts';
import { GrantService } from '../../../src/main/core/grants/grant-service.ts';
import { EventHub } from '../../../src/main/core/events/event-hub.ts';
import { mintOperatorApproval } from '../../../src/main/core/proposals/operator-approval.ts';
import { tempDir } from '../../support/harness.ts';
import { payload, WIRE } from '../../support/declared.ts';
import { rawDb } from '../../support/raw-db.ts';

/** `wire`: a declared action that needs two operators. */
function manifest(dataDir: string): LoadedManifest {
  return { path: '/etc/openexec/actions.yaml', ...buildManifest({ actions: { wire: WIRE } }, { dataDir, env: {} }, ['echo', 'add']) };
}

describe('an action that needs two operators (approval: {quorum: 2})', () => {
  let dir: string;
  let core: OpenExecCore;
  let proposals: ProposalService;
  beforeEach(async () => {
    dir = tempDir();
    addOperator(dir, 'bob');
    core = await OpenExecCore.open({ ...loadConfig({ OPENEXEC_DATA_DIR: dir }), manifest: manifest(dir) });
    proposals = new ProposalService(core, new EventHub(), { defaultTtlSeconds: 600, tenantId: null });
  });
  afterEach(() => {
    proposals.stop();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  let n = 0;
  const propose = async () =>
    (await proposals.propose({ action: 'wire', payload: payload({ to: 'acct-1' }), nonce: `w-${++n}` })).proposal.id;
  const approvals = (id: string) =>
    rawDb(core).prepare("SELECT approver_key_id FROM receipts WHERE event = 'approved' AND proposal_id = ? ORDER BY seq").pluck().all(id);

  test('one approval leaves it pending; the same key again counts once and is refused', async () => {
    const id = await propose();
    expect(await proposals.approve(id)).toMatchObject({ status: 'pending', exec_id: null });
    await expect(proposals.approve(id)).rejects.toThrow(/already approved by operator key .* needs 2 distinct operator keys/);
    expect(await proposals.get(id)).toMatchObject({ status: 'pending', exec_id: null });
    expect(approvals(id)).toEqual([core.operatorSigner.keyId]);
  });

  test('two distinct keys: it runs, and both approvals are recorded with their keys', async () => {
    const id = await propose();
    await proposals.approve(id, 'bob');
    const done = await proposals.approve(id);
    expect(done).toMatchObject({ status: 'executed' });
    expect(approvals(id)).toEqual([(await core.operators.get('bob'))!.keyId, core.operatorSigner.keyId]);
    const executed = JSON.parse(rawDb(core).prepare("SELECT body FROM receipts WHERE event = 'executed'").pluck().get() as string);
    expect(executed).toMatchObject({ proposal_id: id, approver_key_id: core.operatorSigner.keyId });
  });

  test.each([['operator'], ['bob']])('a denial by either (%s) after one approval ends it', async (denier) => {
    const id = await propose();
    await proposals.approve(id, denier === 'bob' ? 'operator' : 'bob');
    expect(await proposals.deny(id, `no, says ${denier}`)).toMatchObject({ status: 'denied' });
    await expect(proposals.approve(id, denier)).rejects.toThrow(/already denied/);
    expect(rawDb(core).prepare("SELECT count(*) FROM receipts WHERE event = 'executed'").pluck().get()).toBe(0);
  });

  test('never without a proposal (not at /execute), and never under a grant', async () => {
    const out = await core.engine.execute({ action: 'wire', payload: payload({ to: 'acct-1' }), nonce: 'direct', artifact: null });
    expect(out).toMatchObject({ kind: 'refused', code: 'approval_required' });
    expect(out.kind === 'refused' && out.detail).toMatch(/needs approvals by 2 distinct operator keys/);
    const grants = new GrantService(core);
    await expect(
      grants.issue({
        action: 'wire',
        fixed: payload({}),
        schema: payload({ type: 'object', properties: { to: { type: 'string' } } }),
        uses: 1,
        reason: 'r',
      }),
    ).rejects.toThrow(/cannot be granted/);
  });

  test('the engine itself refuses a single operator artifact for a quorum proposal', async () => {
    const id = await propose();
    const row = (await proposals.get(id))!;
    const { artifact } = mintOperatorApproval(core, row.request_hash, null);
    const out = await core.engine.execute({
      action: 'wire',
      payload: payload({ to: 'acct-1' }),
      nonce: row.nonce,
      artifact,
      proposalId: id,
    });
    expect(out).toMatchObject({ kind: 'refused', code: 'approval_required' });
    expect(out.kind === 'refused' && out.detail).toMatch(/proposal .* has 1$/);
  });

  test('an unknown operator name is refused', async () => {
    await expect(proposals.approve(await propose(), 'carol')).rejects.toThrow(/No operator 'carol'/);
  });

  test('operators add refuses a taken or bad name', () => {
    expect(() => addOperator(dir, 'bob')).toThrow(/already exists/);
    expect(() => addOperator(dir, 'Bad Name')).toThrow(/must be/);
    expect(() => addOperator(dir, 'operator')).toThrow(/must be/);
  });
});
