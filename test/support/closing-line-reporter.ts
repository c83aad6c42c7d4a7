import type { Reporter, TestModule, TestRunEndReason } from 'vitest/node';
import type { SerializedError } from 'vitest';

// CI reads only a plain "N passed, N failed" closing line; vitest's summary is not recognised.
// A test file that fails to import has no test cases, so it is counted as one failure.
// A suite hook that fails counts too.
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<SerializedError>, _reason: TestRunEndReason): void {
    let passed = 0;
    let failed = errors.length;
    let skipped = 0;
    for (const mod of modules) {
      let cases = 0;
      for (const test of mod.children.allTests()) {
        cases++;
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
      if (mod.state() === 'failed' && cases === 0) failed++;
      else if (mod.errors().length > 0) failed += mod.errors().length;
      // A failing beforeAll/afterAll leaves its tests "skipped": count the hook's error instead.
      for (const suite of mod.children.allSuites()) failed += suite.errors().length;
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
