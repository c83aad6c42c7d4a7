import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { rmSync } from 'node:fs';
import { tempDir } from '../support/harness.ts';
import { loadConfig } from '../../src/main/app/config.ts';
import { OpenExecCore } from '../../src/main/core/openexec-core.ts';
import { ProposalService } from '../../src/main/core/proposals/proposal-service.ts';
import { EventHub } from '../../src/main/core/events/event-hub.ts';
import { Refusal } from '../../src/main/core/errors.ts';
import { HandlerInputError } from '../../src/main/core/actions/action-registry.ts';
import { rawDb } from '../support/raw-db.ts';

describe('an approved proposal whose handler refuses its payload', () => {
  let dir: string;
  let core: OpenExecCore;
  let proposals: ProposalService;
  const open = async () => {
    core = await OpenExecCore.open({
      ...loadConfig({ OPENEXEC_DATA_DIR: dir }),
      extraActions: {
        // An action with effects that refuses its input before doing anything.
        send: () => {
          throw new HandlerInputError('send: "to" must be an address');
        },
      },
    });
    proposals = new ProposalService(core, new EventHub(), { defaultTtlSeconds: 600, tenantId: null });
    await proposals.start();
  };
  beforeEach(async () => {
    dir = tempDir();
    await open();
  });
  afterEach(() => {
    proposals.stop();
    core.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const receiptsOf = (id: string) =>
    rawDb(core).prepare('SELECT event FROM receipts WHERE proposal_id = ? ORDER BY seq').pluck().all(id) as string[];

  test.each([
    ['pure', 'add', { a: 'two', b: 3 }],
    ['effects', 'send', { to: 42 }],
  ])('%s: the proposal ends failed at once, with its receipt and the reason', async (_kind, action, payload) => {
    const { proposal } = await proposals.propose({ action, payload, nonce: `n-${action}` });
    const after = await proposals.approve(proposal.id);
    expect(after.status).toBe('failed');
    expect(after.reason).toMatch(/must be/);
    expect(after.exec_id).not.toBeNull();
    expect(receiptsOf(proposal.id)).toEqual(['proposed', 'approved', 'refused']);
    expect(after.receipt_seq).toBe(rawDb(core).prepare("SELECT max(seq) FROM receipts WHERE event = 'refused'").pluck().get());
    expect((await proposals.listPending()).map((p) => p.id)).not.toContain(proposal.id);
    await expect(proposals.deny(proposal.id, 'too late')).rejects.toThrow(Refusal);
    await expect(proposals.deny(proposal.id, 'too late')).rejects.toThrow(/already failed/);

    // A restart changes nothing and writes nothing.
    const before = rawDb(core).prepare('SELECT count(*) FROM receipts').pluck().get();
    proposals.stop();
    core.close();
    await open();
    expect(await proposals.get(proposal.id)).toMatchObject({ status: 'failed', reason: after.reason, receipt_seq: after.receipt_seq });
    expect(rawDb(core).prepare('SELECT count(*) FROM receipts').pluck().get()).toBe(before);
  });
});
