import { execFileSync, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { Ed25519Signer } from '../../src/main/core/crypto/ed25519.ts';
import { KeyFileError, loadOrCreateSigningKey } from '../../src/main/core/crypto/key-file.ts';

const posix = process.platform !== 'win32';
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const keyFileModule = new URL('../../src/main/core/crypto/key-file.ts', import.meta.url).href;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'openexec-keyfile-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function keyFileError(f: () => unknown): KeyFileError {
  try {
    f();
  } catch (err) {
    if (err instanceof KeyFileError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('loadOrCreateSigningKey', () => {
  test('creates the key 0600 in a new 0700 directory, and reloads the same key', () => {
    const file = join(dir, 'keys', 'nested', 'receipt.key');
    const first = loadOrCreateSigningKey(file);
    expect(first.created).toBe(true);
    if (posix) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'keys', 'nested')).mode & 0o777).toBe(0o700);
    }
    expect(readdirSync(join(dir, 'keys', 'nested'))).toEqual(['receipt.key']); // no temp file left
    const again = loadOrCreateSigningKey(file);
    expect(again.created).toBe(false);
    expect(again.signer.keyId).toBe(first.signer.keyId);
    expect(Ed25519Signer.fromPkcs8Pem(readFileSync(file, 'utf8')).publicKey).toEqual(first.signer.publicKey);
  });

  test.runIf(posix)('refuses a key file other users can read, naming the file and the fix', () => {
    const file = join(dir, 'operator.key');
    loadOrCreateSigningKey(file);
    for (const mode of [0o640, 0o604, 0o644, 0o660]) {
      chmodSync(file, mode);
      const err = keyFileError(() => loadOrCreateSigningKey(file));
      expect(err.code).toBe('key_file');
      expect(err.message).toContain(file);
      expect(err.message).toContain(`run chmod 600 ${file}`);
      expect(err.message).not.toContain('\n');
    }
    chmodSync(file, 0o600);
    expect(loadOrCreateSigningKey(file).created).toBe(false);
  });

  test('refuses a file that is not an Ed25519 PKCS#8 key, and leaves it alone', () => {
    const file = join(dir, 'garbage.key');
    const x25519 = generateKeyPairSync('x25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (const content of ['not a key\n', '', x25519]) {
      writeFileSync(file, content, { mode: 0o600 });
      const err = keyFileError(() => loadOrCreateSigningKey(file));
      expect(err.code).toBe('key_file');
      expect(err.message).toMatch(new RegExp(`^key file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an Ed25519 private key`));
      expect(err.message).not.toContain('\n');
      expect(readFileSync(file, 'utf8')).toBe(content);
    }
  });

  test('refuses a directory where the key file should be', () => {
    const file = join(dir, 'key-dir');
    loadOrCreateSigningKey(join(file, 'inner.key'));
    expect(keyFileError(() => loadOrCreateSigningKey(file)).message).toContain(file);
  });

  test('processes racing to create the key all end up with one key', async () => {
    const child = join(dir, 'child.mjs');
    writeFileSync(
      child,
      [
        `const { existsSync } = await import('node:fs');`,
        `const { loadOrCreateSigningKey } = await import(${JSON.stringify(keyFileModule)});`,
        `process.stdout.write('ready\\n');`,
        `process.stdin.once('data', () => {`,
        `  const sawNoFile = !existsSync(process.argv[2]);`,
        `  const { signer, created } = loadOrCreateSigningKey(process.argv[2]);`,
        `  process.stdout.write(JSON.stringify({ keyId: signer.keyId, created, sawNoFile }) + '\\n');`,
        `  process.exit(0);`,
        `});`,
      ].join('\n'),
    );
    let lostLinkRace = 0;
    for (let round = 0; round < 3; round++) {
      const file = join(dir, `race-${round}`, 'receipt.key');
      const children = Array.from({ length: 6 }, () => startChild(child, file));
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.go(); // released together, once every child has loaded the module
      const outputs = await Promise.all(children.map((c) => c.done));
      const results = outputs.map((out) => JSON.parse(out.split('\n')[1] ?? '') as { keyId: string; created: boolean; sawNoFile: boolean });
      expect(new Set(results.map((r) => r.keyId)).size).toBe(1);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(loadOrCreateSigningKey(file).signer.keyId).toBe(results[0]?.keyId);
      expect(readdirSync(join(dir, `race-${round}`))).toEqual(['receipt.key']);
      lostLinkRace += results.filter((r) => r.sawNoFile && !r.created).length;
    }
    // Timing-dependent, so reported rather than asserted: how often the EEXIST path really ran.
    console.info(`key-file race: ${lostLinkRace} of 18 children found no file yet lost the link race`);
  });
});

describe.runIf(posix)('a key file is the file it claims to be', () => {
  test('a FIFO is refused at once (opened without blocking), naming the file', () => {
    const file = join(dir, 'receipt-key.pem');
    execFileSync('mkfifo', ['-m', '600', file]);
    const err = keyFileError(() => loadOrCreateSigningKey(file));
    expect(err.message).toBe(`key file ${file} is not a regular file`);
  });

  test('a symbolic link is refused, even to a good key of ours', () => {
    const real = join(dir, 'real.pem');
    loadOrCreateSigningKey(real);
    const link = join(dir, 'operator-key.pem');
    symlinkSync(real, link);
    const err = keyFileError(() => loadOrCreateSigningKey(link));
    expect(err.message).toMatch(new RegExp(`^key file ${link.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is a symbolic link`));
    expect(err.message).not.toContain('\n');
    // A dangling link is refused too, never created through.
    const dangling = join(dir, 'dangling.pem');
    symlinkSync(join(dir, 'nowhere.pem'), dangling);
    expect(keyFileError(() => loadOrCreateSigningKey(dangling)).message).toContain(dangling);
    expect(readdirSync(dir)).not.toContain('nowhere.pem');
  });

  test.runIf(process.getuid?.() === 0)('a key file owned by another user is refused', () => {
    const file = join(dir, 'theirs.pem');
    loadOrCreateSigningKey(file);
    chownSync(file, 65534, 65534);
    expect(keyFileError(() => loadOrCreateSigningKey(file)).message).toBe(`key file ${file} belongs to another user (uid 65534)`);
  });
});

/** A child process that loads key-file.ts, says "ready", and creates/loads `file` on "go". */
function startChild(script: string, file: string): { ready: Promise<void>; done: Promise<string>; go: () => void } {
  const p = spawn(process.execPath, ['--import', 'tsx', script, file], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let markReady = (): void => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) markReady();
  });
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<string>((resolve, reject) => {
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}: ${err}`))));
  });
  // A child that dies before "ready" must fail the test, not hang it.
  void done.catch(() => undefined);
  return { ready: Promise.race([ready, done.then(() => undefined)]), done, go: () => p.stdin.end('go\n') };
}
