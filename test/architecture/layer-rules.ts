import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { scanImports } from './import-scanner.ts';

/** What an import names, once resolved. Paths are repository-relative with `/` separators. */
export type ImportTarget =
  { kind: 'file'; path: string } | { kind: 'package'; name: string } | { kind: 'builtin'; name: string } | { kind: 'unresolved' };

export interface ImportEdge {
  /** The importing file, repository-relative. */
  file: string;
  line: number;
  specifier: string;
  target: ImportTarget;
}

export interface LayerRule {
  /** Files under this prefix obey the rule. */
  scope: string;
  /** The rule in words, printed with every file that breaks it. */
  says: string;
  /** Repository paths (prefixes) the scope may import; its own scope is always allowed. */
  files: readonly string[];
  /** npm packages the scope may import. */
  packages: (name: string) => boolean;
  /** Whether Node's built-in modules are available there. */
  builtins: boolean;
}

export interface Violation {
  edge: ImportEdge;
  rule: string;
}

/** The MCP SDK is reached only through src/main/mcp/sdk-adapter.ts (its v1 line is in maintenance). */
const isMcpSdk = (name: string) => name.startsWith('@modelcontextprotocol/');
const anyPackageButElectron = (name: string) => name !== 'electron' && !isMcpSdk(name);
const RENDERER_PACKAGES = new Set(['react', 'react-dom', 'zustand', '@tanstack/react-virtual']);

/**
 * The layers of the source tree (README, "Layout"). Each rule is an allow-list, so a new
 * directory or package is refused until someone decides where it belongs.
 */
export const LAYER_RULES: readonly LayerRule[] = [
  {
    scope: 'src/main/core/',
    says: 'the core is plain Node: it imports only src/main/core and src/shared (no electron, api, app, cli, electron, ipc, renderer or preload code)',
    files: ['src/shared/', 'package.json'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/api/',
    says: 'the HTTP API imports only src/main/core, src/shared and itself (no electron, app, cli or Electron shell code)',
    files: ['src/main/core/', 'src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/mcp/sdk-adapter.ts',
    says: 'the MCP SDK adapter imports only the SDK, src/main/core, src/shared and src/main/mcp',
    files: ['src/main/core/', 'src/shared/', 'src/main/mcp/'],
    packages: (name) => name !== 'electron',
    builtins: true,
  },
  {
    scope: 'src/main/mcp/',
    says: 'the MCP gateway and proxy import only src/main/core, src/main/api, src/shared and themselves; the SDK only through src/main/mcp/sdk-adapter.ts',
    files: ['src/main/core/', 'src/main/api/', 'src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/app/',
    says: 'start-up is shared by the headless server and Electron: it imports only src/main/core, src/main/api, src/main/mcp, src/shared and itself (no electron)',
    files: ['src/main/core/', 'src/main/api/', 'src/main/mcp/', 'src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/cli/openexec-cli.ts',
    says: "the CLI's entry point puts the CLI and the demo together: it imports only src/main/cli, src/main/demo, src/main/core, src/main/api, src/main/app, src/main/mcp and src/shared (no electron)",
    files: ['src/main/cli/', 'src/main/demo/', 'src/main/core/', 'src/main/api/', 'src/main/app/', 'src/main/mcp/', 'src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/demo/',
    says: 'the demo is a client of a running OpenExec: it imports only src/client (its agent is what an integrator writes), src/main/cli, src/main/app, src/main/core, src/shared and itself (no electron, api or Electron code)',
    files: ['src/client/', 'src/main/cli/', 'src/main/app/', 'src/main/core/', 'src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/cli/',
    says: 'the CLI imports only src/main/core, src/main/api, src/main/app, src/main/mcp, src/shared and itself (no electron)',
    files: ['src/main/core/', 'src/main/api/', 'src/main/app/', 'src/main/mcp/', 'src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/client/',
    says: 'the agent client (openexec-console/client) imports only src/main/core/json, src/shared and itself: no server, no electron, no MCP SDK',
    files: ['src/main/core/json/', 'src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/ipc/',
    says: 'the IPC dispatch is Electron-free: it imports only src/shared and itself (no electron, no src/main/electron)',
    files: ['src/shared/'],
    packages: anyPackageButElectron,
    builtins: true,
  },
  {
    scope: 'src/main/electron/',
    says: 'the Electron shell imports only src/main/ipc, src/shared, itself and packages (it is wired to the core by src/main/index.ts)',
    files: ['src/main/ipc/', 'src/shared/'],
    packages: () => true,
    builtins: true,
  },
  {
    scope: 'src/preload/',
    says: 'the preload imports only src/shared, itself and electron',
    files: ['src/shared/'],
    packages: (name) => name === 'electron',
    builtins: false,
  },
  {
    scope: 'src/renderer/',
    says: 'the renderer imports only src/shared, itself, react, react-dom, zustand, @tanstack/react-virtual and @noble/*',
    files: ['src/shared/'],
    packages: (name) => RENDERER_PACKAGES.has(name) || name.startsWith('@noble/'),
    builtins: false,
  },
  {
    scope: 'src/shared/',
    says: 'src/shared is the contract between processes: it imports only src/shared, zod and @noble/*',
    files: [],
    packages: (name) => name === 'zod' || name.startsWith('@noble/'),
    builtins: false,
  },
];

const NOTHING_FROM_TESTS = 'nothing in src imports test/, bench/ or scripts/';
const RESOLVES = 'every relative import names a file that exists';

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

const BUILTINS = new Set(builtinModules);

/** Resolves a specifier the way our bundler settings do: `.ts`/`.tsx` optional, `.js` meaning `.ts`. */
export function resolveImport(root: string, file: string, specifier: string): ImportTarget {
  if (specifier.startsWith('node:') || BUILTINS.has(specifier)) return { kind: 'builtin', name: specifier.replace(/^node:/, '') };
  if (!specifier.startsWith('.') && !specifier.startsWith('/')) return { kind: 'package', name: packageName(specifier) };
  const base = resolve(root, dirname(file), specifier.replace(/\?.*$/, ''));
  const candidates = [base, `${base}.ts`, `${base}.tsx`, base.replace(/\.js$/, '.ts'), join(base, 'index.ts'), join(base, 'index.tsx')];
  const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return hit === undefined ? { kind: 'unresolved' } : { kind: 'file', path: relative(root, hit).split(sep).join('/') };
}

/** The rule an import breaks, or null. */
export function brokenRule(edge: ImportEdge, rules: readonly LayerRule[] = LAYER_RULES): string | null {
  const { file, target } = edge;
  if (target.kind === 'unresolved') return RESOLVES;
  if (file.startsWith('src/') && target.kind === 'file' && /^(test|bench|scripts)\//.test(target.path)) return NOTHING_FROM_TESTS;
  const rule = rules.find((r) => file.startsWith(r.scope));
  if (!rule) return null;
  const allowed =
    target.kind === 'file'
      ? target.path.startsWith(rule.scope) || rule.files.some((prefix) => target.path === prefix || target.path.startsWith(prefix))
      : target.kind === 'builtin'
        ? rule.builtins
        : rule.packages(target.name);
  return allowed ? null : rule.says;
}

export function checkLayers(edges: readonly ImportEdge[], rules: readonly LayerRule[] = LAYER_RULES): Violation[] {
  return edges.flatMap((edge) => {
    const rule = brokenRule(edge, rules);
    return rule === null ? [] : [{ edge, rule }];
  });
}

/** `src/main/core/x.ts:3 imports 'electron' (package electron), which breaks: …` */
export function describeViolation({ edge, rule }: Violation): string {
  const t = edge.target;
  const what = t.kind === 'file' ? t.path : t.kind === 'unresolved' ? 'nothing' : `${t.kind} ${t.name}`;
  return `${edge.file}:${edge.line} imports '${edge.specifier}' (${what}), which breaks: ${rule}`;
}

export function sourceFiles(root: string, dir: string): string[] {
  const abs = join(root, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { recursive: true, encoding: 'utf8' })
    .filter((name) => /\.(ts|tsx|mts|cts)$/.test(name))
    .map((name) => `${dir}/${name.split(sep).join('/')}`)
    .sort();
}

/** Every import edge of every TypeScript file under `dirs`. */
export function collectEdges(root: string, dirs: readonly string[]): ImportEdge[] {
  return dirs.flatMap((dir) =>
    sourceFiles(root, dir).flatMap((file) =>
      scanImports(readFileSync(join(root, file), 'utf8')).map(({ specifier, line }) => ({
        file,
        line,
        specifier,
        target: resolveImport(root, file, specifier),
      })),
    ),
  );
}
