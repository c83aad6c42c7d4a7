import { describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../support/harness.ts';
import { scanImports } from './import-scanner.ts';
import {
  brokenRule,
  checkLayers,
  collectEdges,
  describeViolation,
  type ImportEdge,
  type ImportTarget,
  LAYER_RULES,
} from './layer-rules.ts';

const edges = collectEdges(REPO_ROOT, ['src', 'test', 'bench', 'scripts']);

describe('the layer rules hold in this repository', () => {
  test('every import follows the layer rules (README, "Layout")', () => {
    const broken = checkLayers(edges).map(describeViolation);
    // One line per offending import, naming the file, the import and the rule it breaks.
    expect(broken, `\n${broken.join('\n')}\n`).toEqual([]);
  });

  test('the scan sees the imports that are there', () => {
    // Guards against a scanner that silently finds nothing, which would pass every rule.
    const from = (file: string) => edges.filter((e) => e.file === file).map((e) => e.specifier);
    expect(from('src/main/index.ts')).toContain('electron');
    expect(from('src/preload/index.ts')).toContain('electron');
    expect(from('src/renderer/src/main.tsx')).toEqual(expect.arrayContaining(['react', 'react-dom/client']));
    expect(from('src/main/api/console-routes.ts')).toContain('../../shared/console-result.ts');
    for (const rule of LAYER_RULES) {
      expect(
        edges.some((e) => e.file.startsWith(rule.scope)),
        `no imports found under ${rule.scope}`,
      ).toBe(true);
    }
    expect(edges.length).toBeGreaterThan(300);
  });
});

describe('the rule checker', () => {
  const edge = (file: string, specifier: string, target: ImportTarget): ImportEdge => ({ file, line: 7, specifier, target });

  test('refuses what each layer must not import, and says which file breaks which rule', () => {
    const bad = [
      edge('src/main/core/engine/engine.ts', 'electron', { kind: 'package', name: 'electron' }),
      edge('src/main/core/engine/engine.ts', '../../api/reply.ts', { kind: 'file', path: 'src/main/api/reply.ts' }),
      edge('src/main/core/x.ts', '../app/version.ts', { kind: 'file', path: 'src/main/app/version.ts' }),
      edge('src/main/core/x.ts', '../../renderer/src/App.tsx', { kind: 'file', path: 'src/renderer/src/App.tsx' }),
      edge('src/main/core/x.ts', '../../preload/bridge.ts', { kind: 'file', path: 'src/preload/bridge.ts' }),
      edge('src/main/core/x.ts', '../index.ts', { kind: 'file', path: 'src/main/index.ts' }),
      edge('src/main/api/compat-routes.ts', '../app/version.ts', { kind: 'file', path: 'src/main/app/version.ts' }),
      edge('src/main/ipc/d.ts', '../electron/security.ts', { kind: 'file', path: 'src/main/electron/security.ts' }),
      edge('src/renderer/src/App.tsx', '../../main/core/errors.ts', { kind: 'file', path: 'src/main/core/errors.ts' }),
      edge('src/renderer/src/App.tsx', 'node:fs', { kind: 'builtin', name: 'fs' }),
      edge('src/renderer/src/App.tsx', 'electron', { kind: 'package', name: 'electron' }),
      edge('src/renderer/src/App.tsx', 'lodash', { kind: 'package', name: 'lodash' }),
      edge('src/preload/index.ts', '../main/core/errors.ts', { kind: 'file', path: 'src/main/core/errors.ts' }),
      edge('src/preload/index.ts', 'zustand', { kind: 'package', name: 'zustand' }),
      edge('src/shared/console-api.ts', '../main/core/errors.ts', { kind: 'file', path: 'src/main/core/errors.ts' }),
      edge('src/shared/console-api.ts', 'react', { kind: 'package', name: 'react' }),
      edge('src/main/app/config.ts', '../../../test/support/harness.ts', { kind: 'file', path: 'test/support/harness.ts' }),
      edge('src/main/headless.ts', '../test/support/harness.ts', { kind: 'file', path: 'test/support/harness.ts' }),
      // The MCP SDK only behind its adapter; the core never reaches the MCP layer.
      edge('src/main/core/x.ts', '@modelcontextprotocol/sdk', { kind: 'package', name: '@modelcontextprotocol/sdk' }),
      edge('src/main/core/x.ts', '../mcp/gateway.ts', { kind: 'file', path: 'src/main/mcp/gateway.ts' }),
      edge('src/main/api/x.ts', '../mcp/gateway.ts', { kind: 'file', path: 'src/main/mcp/gateway.ts' }),
      edge('src/main/mcp/gateway.ts', '@modelcontextprotocol/sdk', { kind: 'package', name: '@modelcontextprotocol/sdk' }),
      edge('src/main/cli/mcp-command.ts', '@modelcontextprotocol/sdk', { kind: 'package', name: '@modelcontextprotocol/sdk' }),
      edge('src/main/app/openexec-app.ts', '@modelcontextprotocol/sdk', { kind: 'package', name: '@modelcontextprotocol/sdk' }),
      edge('src/main/mcp/sdk-adapter.ts', '../app/config.ts', { kind: 'file', path: 'src/main/app/config.ts' }),
      edge('src/main/mcp/gateway.ts', '../cli/cli-error.ts', { kind: 'file', path: 'src/main/cli/cli-error.ts' }),
      edge('src/main/index.ts', './nowhere', { kind: 'unresolved' }),
    ];
    const violations = checkLayers(bad);
    expect(violations.map((v) => v.edge)).toEqual(bad);
    expect(describeViolation(violations[0]!)).toBe(
      `src/main/core/engine/engine.ts:7 imports 'electron' (package electron), which breaks: ${LAYER_RULES[0]!.says}`,
    );
    expect(describeViolation(violations[6]!)).toMatch(
      /^src\/main\/api\/compat-routes\.ts:7 imports '\.\.\/app\/version\.ts' \(src\/main\/app\/version\.ts\), which breaks: the HTTP API/,
    );
    expect(describeViolation(violations.at(-1)!)).toContain('every relative import names a file that exists');
  });

  test('allows what each layer may import', () => {
    const good = [
      edge('src/main/core/engine/engine.ts', '../../../shared/console-dto.ts', { kind: 'file', path: 'src/shared/console-dto.ts' }),
      edge('src/main/core/engine/engine.ts', 'better-sqlite3', { kind: 'package', name: 'better-sqlite3' }),
      edge('src/main/core/engine/engine.ts', 'node:crypto', { kind: 'builtin', name: 'crypto' }),
      edge('src/main/api/x.ts', '../core/errors.ts', { kind: 'file', path: 'src/main/core/errors.ts' }),
      edge('src/main/electron/security.ts', '../ipc/app-url.ts', { kind: 'file', path: 'src/main/ipc/app-url.ts' }),
      edge('src/renderer/src/App.tsx', '@noble/ed25519', { kind: 'package', name: '@noble/ed25519' }),
      edge('src/renderer/src/App.tsx', './styles.css', { kind: 'file', path: 'src/renderer/src/styles.css' }),
      edge('src/preload/index.ts', 'electron', { kind: 'package', name: 'electron' }),
      edge('src/shared/x.ts', 'zod', { kind: 'package', name: 'zod' }),
      edge('src/main/mcp/sdk-adapter.ts', '@modelcontextprotocol/sdk', { kind: 'package', name: '@modelcontextprotocol/sdk' }),
      edge('src/main/mcp/gateway.ts', '../core/errors.ts', { kind: 'file', path: 'src/main/core/errors.ts' }),
      edge('src/main/app/openexec-app.ts', '../mcp/gateway.ts', { kind: 'file', path: 'src/main/mcp/gateway.ts' }),
      edge('src/main/cli/mcp-command.ts', '../mcp/sdk-adapter.ts', { kind: 'file', path: 'src/main/mcp/sdk-adapter.ts' }),
      edge('test/core/x.test.ts', '../../src/main/core/errors.ts', { kind: 'file', path: 'src/main/core/errors.ts' }),
    ];
    expect(good.map((e) => brokenRule(e))).toEqual(good.map(() => null));
  });
});

describe('the import scanner', () => {
  test('finds every form of import and export-from', () => {
    const source = `
      import a from './a';
      import { b, c as d } from "./b";
      import * as e from './e';
      import type { F } from './f';
      import g, { type H } from './g';
      import './side-effect.css';
      export { i } from './i';
      export * from './j';
      export * as k from './k';
      export type { L } from './l';
      import { from } from './from';
      const m = await import('./m');
      type N = import('./n').N;
      const o = require('./o');
      import pkg from '../../package.json' with { type: 'json' };
      import {
        p,
        q,
      } from './p';
    `;
    expect(scanImports(source).map((s) => s.specifier)).toEqual([
      './a',
      './b',
      './e',
      './f',
      './g',
      './side-effect.css',
      './i',
      './j',
      './k',
      './l',
      './from',
      './m',
      './n',
      './o',
      '../../package.json',
      './p',
    ]);
    expect(scanImports(source).find((s) => s.specifier === './p')?.line).toBe(17);
  });

  test('is not fooled by comments, strings, templates or regular expressions', () => {
    const source = `
      // import a from './comment';
      /* import b from './block'; export * from './block2'; */
      const s = "import c from './string'";
      const t = \`import d from './template' \${ "x" + { e: 1 }.e } import('./template2')\`;
      const r = /import f from '.\\/regex'/;
      const quote = /'/g; import g from './after-regex';
      obj.import('./method'); obj.require('./method2');
      export const from = 'not-an-import';
      import h from './real';
    `;
    expect(scanImports(source).map((s) => s.specifier)).toEqual(['./after-regex', './real']);
  });
});
