import { expect, test } from 'vitest';
test('node 22 runs the tests', () => {
  expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
});
