#!/usr/bin/env node
// `npm run demo:record`: runs the built-in demo (`openexec demo --auto`) for real and records
// what it prints, with its real timings, as an asciinema v2 cast in docs/demo/demo.cast.
// Play it with `asciinema play docs/demo/demo.cast`, or any asciinema player.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'docs/demo/demo.cast');
const WIDTH = 100;
const HEIGHT = 40;

const started = process.hrtime.bigint();
const seconds = () => Number(process.hrtime.bigint() - started) / 1e9;
const events = [];
// A terminal would show the command being typed first.
const prompt = '$ npm run demo -- --auto\r\n';
events.push([0, 'o', prompt]);

const child = spawn(join(root, 'bin/openexec'), ['demo', '--auto'], {
  cwd: root,
  env: { ...process.env, FORCE_COLOR: '1' },
  stdio: ['ignore', 'pipe', 'pipe'],
});
let stderr = '';
// The demo writes whole lines; a pty turns each line feed into CR LF, and so does the cast.
child.stdout.setEncoding('utf8');
child.stdout.on('data', (text) => events.push([Number(seconds().toFixed(6)), 'o', text.replace(/\r?\n/g, '\r\n')]));
child.stderr.setEncoding('utf8');
child.stderr.on('data', (text) => (stderr += text));
child.on('close', (code) => {
  if (code !== 0) {
    process.stderr.write(`record-demo: the demo exited ${code}; the cast was not written\n${stderr}`);
    process.exit(1);
  }
  const header = {
    version: 2,
    width: WIDTH,
    height: HEIGHT,
    timestamp: Math.floor(Date.now() / 1000),
    title: 'OpenExec in two minutes (openexec demo --auto)',
    env: { TERM: 'xterm-256color', SHELL: '/bin/sh' },
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, [JSON.stringify(header), ...events.map((e) => JSON.stringify(e))].join('\n') + '\n');
  process.stdout.write(`record-demo: ${events.length} frames over ${seconds().toFixed(1)} s written to ${out}\n`);
});
