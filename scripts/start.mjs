#!/usr/bin/env node
// `npm start`: build with electron-vite, then open the console in Electron. Where no Electron
// binary can be had, say so in one line and point to the headless mode; never wait for a download.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { findElectronBinary, PROJECT_ROOT } from './electron-binary.mjs';

const found = findElectronBinary();
if ('missing' in found) {
  console.error(`openexec: cannot open the console window: ${found.missing}; run it headless with \`npm run serve\` instead.`);
  process.exit(1);
}

const build = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', 'electron-vite'), ['build'], {
  cwd: PROJECT_ROOT,
  stdio: 'inherit',
});
if (build.status !== 0) {
  console.error('openexec: the build failed (see above); the console was not started.');
  process.exit(build.status ?? 1);
}

// Launch the app directory: its package.json `main` is out/main/index.js, and launching the
// directory (not the file) gives the app its own name and userData folder.
const env = { ...process.env };
delete env.ELECTRON_RUN_AS_NODE;
const child = spawn(found.path, [PROJECT_ROOT, ...process.argv.slice(2)], { cwd: PROJECT_ROOT, stdio: 'inherit', env });
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (err) => {
  console.error(`openexec: could not start Electron: ${err.message}`);
  process.exit(1);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
