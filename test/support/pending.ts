import type { ProposalDto } from '../../src/shared/console-dto.ts';
import type { RunningServer } from './harness.ts';

/** Waits until a pending proposal matching `which` exists (an agent's call is being held) and returns its id. */
export async function pendingId(s: RunningServer, which: (p: ProposalDto) => boolean): Promise<string> {
  for (;;) {
    const list = await s.app.console.listPending();
    const hit = list.ok ? list.value.find(which) : undefined;
    if (hit) return hit.id;
    await new Promise((r) => setTimeout(r, 20));
  }
}
