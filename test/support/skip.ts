import type { TestContext } from 'vitest';

/**
 * Skips the running test and prints why, so a skip in CI's log always says its reason (vitest's
 * own reporter does not show the note given to `ctx.skip`).
 */
export function skipBecause(ctx: TestContext, reason: string): void {
  console.log(`skipped "${ctx.task.name}": ${reason}`);
  ctx.skip(reason);
}

/** `cond`, having printed why the test named `what` will not run when it is true (for `test.skipIf`). */
export function skipNoted(cond: boolean, what: string, reason: string): boolean {
  if (cond) console.log(`skipped "${what}": ${reason}`);
  return cond;
}
