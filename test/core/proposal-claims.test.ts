import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { tempDir } from '../support/harness.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { ProposalService } from '../../src/main/core/proposals/proposal-service.ts';
import { EventHub } from '../../src/main/core/events/event-hub.ts';
import { parseJson } from '../../src/main/core/json/parse.ts';
import type { JsonObject } from '../../src/main/core/json/json-value.ts';
import { rawDb } from '../support/raw-db.ts';

describe('a proposal whose approved execution is running', () => {
  let dir: string;
  let core: OpenExecCore;
  let proposals: ProposalService;
  let release: () => void = () => undefined;
  beforeEach(async () => {
    dir = tempDir();
    core = await OpenExecCore.open({
      ...loadConfig({ OPENEXEC_DATA_DIR: dir }),
      extraActions: {
        // An action with effects that takes its time, so the test can act while it runs.
        send: (payload) => new Promise((resolve) => (release = () => resolve(payload))),
      },
    });
    proposals = new ProposalService(core, new EventHub(), { defaultTtlSeconds: 600, tenantId: null });
  });
  afterEach(() => {
    proposals.stop();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('cannot be denied, expired or approved again meanwhile, and ends executed', async () => {
    const { proposal } = await proposals.propose({
      action: 'send',
      payload: parseJson('{"to":"cfo"}') as JsonObject,
      nonce: 'p-1',
      ttlSeconds: 1,
    });
    const approving = proposals.approve(proposal.id);
    for (let i = 0; i < 50 && (await proposals.get(proposal.id))?.exec_id === null; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await proposals.get(proposal.id)).toMatchObject({ status: 'pending', exec_id: expect.any(String) });
    await expect(proposals.deny(proposal.id, 'too late')).rejects.toThrow(/is being executed/);
    await expect(proposals.approve(proposal.id)).rejects.toThrow(/already being approved|is being executed/);
    await new Promise((r) => setTimeout(r, 1100)); // past its expiry: a running execution is not expired
    await proposals.expireDue();
    expect((await proposals.get(proposal.id))?.status).toBe('pending');
    release();
    const done = await approving;
    expect(done).toMatchObject({ status: 'executed', result: '{"to":"cfo"}' });
    const events = rawDb(core).prepare('SELECT event FROM receipts WHERE proposal_id = ? ORDER BY seq').pluck().all(proposal.id);
    expect(events).toEqual(['proposed', 'approved', 'executed']);
  });

  test('stopped while it runs: at the next start it is closed as its execution was, at that receipt', async () => {
    const { proposal } = await proposals.propose({ action: 'send', payload: parseJson('{"to":"cfo"}') as JsonObject, nonce: 'p-2' });
    void proposals.approve(proposal.id);
    for (let i = 0; i < 50 && (await proposals.get(proposal.id))?.exec_id === null; i++) await new Promise((r) => setTimeout(r, 5));
    const execId = (await proposals.get(proposal.id))?.exec_id;
    expect(execId).toEqual(expect.any(String));
    // The process stops with the handler still running; the next start closes the execution.
    proposals.stop();
    core.close();
    core = await OpenExecCore.open({ ...loadConfig({ OPENEXEC_DATA_DIR: dir }), extraActions: { send: (payload) => payload } });
    proposals = new ProposalService(core, new EventHub(), { defaultTtlSeconds: 600, tenantId: null });
    expect(await proposals.get(proposal.id)).toMatchObject({ status: 'pending', exec_id: execId });
    await proposals.start();
    const closing = rawDb(core).prepare("SELECT seq, time, reason FROM receipts WHERE exec_id = ? AND event = 'failed'").get(execId) as {
      seq: number;
      time: string;
      reason: string;
    };
    expect(closing.reason).toMatch(/^Interrupted/);
    expect(await proposals.get(proposal.id)).toMatchObject({
      status: 'failed',
      exec_id: execId,
      receipt_seq: closing.seq,
      decided_at: closing.time,
      reason: closing.reason,
    });
  });
});
