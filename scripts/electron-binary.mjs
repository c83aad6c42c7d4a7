// Finds the Electron executable WITHOUT require('electron') (which would try to download it).
// Same rules as node_modules/electron/index.js: ELECTRON_OVERRIDE_DIST_PATH wins, otherwise
// node_modules/electron/path.txt names the binary inside node_modules/electron/dist.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** @returns {{ path: string } | { missing: string }} */
export function findElectronBinary(env = process.env, root = PROJECT_ROOT) {
  const pkgDir = join(root, 'node_modules', 'electron');
  const pathFile = join(pkgDir, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : null;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const candidate = join(env.ELECTRON_OVERRIDE_DIST_PATH, relative || 'electron');
    return existsSync(candidate) ? { path: candidate } : { missing: `ELECTRON_OVERRIDE_DIST_PATH is set but ${candidate} does not exist` };
  }
  if (!relative) return { missing: 'the Electron binary was never downloaded (node_modules/electron/path.txt is missing)' };
  const candidate = join(pkgDir, 'dist', relative);
  return existsSync(candidate) ? { path: candidate } : { missing: `the Electron binary ${candidate} is missing` };
}
