import { describe, expect, test } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HandlerInputError } from '../../../src/main/core/actions/action-registry.ts';
import { writeFileUnderRoot } from '../../../src/main/core/actions/declared/write-file-executor.ts';
import { parseTemplate } from '../../../src/main/core/actions/declared/template.ts';
import { tempDir } from '../../support/harness.ts';
import { declare, payload, stringSchema } from '../../support/declared.ts';

const base = {
  description: 'test',
  risk: 'medium',
  kind: 'write_file',
  path: '{file}',
  content: '{text}',
  payload_schema: stringSchema('file', 'text'),
};
const write = (action: ReturnType<typeof declare>, p: unknown) =>
  Promise.resolve(action.run(payload(p))) as Promise<Record<string, unknown>>;

describe('write_file: under root, never through a link', () => {
  test('writes atomically with mode 0600, creating folders, and answers path, bytes and sha256', async () => {
    const root = tempDir();
    const note = declare('note', { ...base, root });
    const r = await write(note, { file: 'a/b/note.txt', text: 'héllo' });
    const bytes = Buffer.from('héllo');
    expect(r).toEqual({
      path: join(root, 'a/b/note.txt'),
      bytes: BigInt(bytes.length),
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(readFileSync(join(root, 'a/b/note.txt'), 'utf8')).toBe('héllo');
    expect(statSync(join(root, 'a/b/note.txt')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(root, 'a/b'))).toEqual(['note.txt']); // no temporary file left behind
    const shared = declare('shared', { ...base, root, mode: '0640', overwrite: true });
    await write(shared, { file: 'm.txt', text: 'x' });
    expect(statSync(join(root, 'm.txt')).mode & 0o777).toBe(0o640);
    expect(note.preview!(payload({ file: 'a/n.txt', text: 'abc' }))).toEqual([
      `write ${join(root, 'a/n.txt')}`,
      '3 bytes, mode 0600, refused if the file exists',
    ]);
  });

  test.each(['../escape.txt', 'a/../../escape.txt', '/etc/passwd', 'a//b', './x', ''])('path %j is refused', async (file) => {
    const root = tempDir();
    const note = declare('note', { ...base, root });
    await expect(write(note, { file, text: 'x' })).rejects.toThrow(HandlerInputError);
    expect(readdirSync(root)).toEqual([]);
  });

  test('an existing file is refused unless overwrite is on, and then replaced', async () => {
    const root = tempDir();
    writeFileSync(join(root, 'n.txt'), 'old');
    await expect(write(declare('n', { ...base, root }), { file: 'n.txt', text: 'new' })).rejects.toThrow(
      /already exists and overwrite is off/,
    );
    expect(readFileSync(join(root, 'n.txt'), 'utf8')).toBe('old');
    await write(declare('n', { ...base, root, overwrite: true }), { file: 'n.txt', text: 'new' });
    expect(readFileSync(join(root, 'n.txt'), 'utf8')).toBe('new');
  });

  test('a symlinked folder inside root is never followed out of it', async () => {
    const root = tempDir();
    const outside = tempDir();
    symlinkSync(outside, join(root, 'link'));
    await expect(write(declare('n', { ...base, root }), { file: 'link/x.txt', text: 'x' })).rejects.toThrow(
      /'link' is a link or not a directory/,
    );
    expect(readdirSync(outside)).toEqual([]);
  });

  test('a symlink as the file itself is replaced, never written through', async () => {
    const root = tempDir();
    const outside = tempDir();
    writeFileSync(join(outside, 'target'), 'precious');
    symlinkSync(join(outside, 'target'), join(root, 'n.txt'));
    await expect(write(declare('n', { ...base, root }), { file: 'n.txt', text: 'x' })).rejects.toThrow(/already exists/);
    await write(declare('n', { ...base, root, overwrite: true }), { file: 'n.txt', text: 'mine' });
    expect(readFileSync(join(outside, 'target'), 'utf8')).toBe('precious');
    expect(lstatSync(join(root, 'n.txt')).isFile()).toBe(true);
  });

  test('a link swapped in between check and write: the write stays in the folder that was checked', async () => {
    const root = tempDir();
    const outside = tempDir();
    mkdirSync(join(root, 'sub'));
    const spec = { root, path: parseTemplate('sub/{file}'), content: parseTemplate('{text}'), mode: 0o600, overwrite: false };
    const r = await writeFileUnderRoot(spec, payload({ file: 'x.txt', text: 'x' }), {
      afterResolve: () => {
        // The attacker's move: the checked folder goes away and a link to outside takes its name.
        renameSync(join(root, 'sub'), join(root, 'moved'));
        symlinkSync(outside, join(root, 'sub'));
      },
    });
    expect(readdirSync(outside)).toEqual([]);
    expect(readFileSync(join(root, 'moved', 'x.txt'), 'utf8')).toBe('x');
    expect(r).toMatchObject({ bytes: 1n });
    expect(existsSync(join(outside, 'x.txt'))).toBe(false);
  });
});
