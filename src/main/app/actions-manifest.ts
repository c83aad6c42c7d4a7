import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { buildManifest, ManifestError } from '../core/actions/declared/manifest.ts';
import { BUILTIN_ACTIONS } from '../core/actions/builtin-actions.ts';
import type { LoadedManifest } from '../core/openexec-core.ts';
import { ConfigError } from './config.ts';

/** A .yaml, .yml or .json file the operator wrote, parsed; any problem is one ConfigError line naming the file (and line). */
export function readOperatorFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const ext = extname(file).toLowerCase();
  try {
    if (ext === '.json') return JSON.parse(text);
    if (ext === '.yaml' || ext === '.yml') return parseYaml(text);
    throw new ConfigError(`${file}: unknown extension '${ext}' (use .yaml, .yml or .json)`);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const where = err instanceof YAMLParseError && err.linePos ? `line ${err.linePos[0].line}: ` : '';
    const message =
      err instanceof YAMLParseError ? err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '') : (err as Error).message;
    throw new ConfigError(`${file}: ${where}${message}`);
  }
}

/** Reads and validates the manifest; any problem is one ConfigError line naming file, action and field. */
export function loadActionsManifest(file: string, dataDir: string, env: Record<string, string | undefined>): LoadedManifest {
  const tree = readOperatorFile(file);
  try {
    return { path: file, ...buildManifest(tree, { dataDir, env }, Object.keys(BUILTIN_ACTIONS)) };
  } catch (err) {
    if (err instanceof ManifestError) throw new ConfigError(`${file}: ${err.message}`);
    throw err;
  }
}
