import { constants } from 'node:fs';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { JsonObject, JsonValue } from '../../json/json-value.ts';
import { HandlerInputError } from '../action-registry.ts';
import { render, type Template } from './template.ts';

export const DEFAULT_FILE_MODE = 0o600;
const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_DIRECTORY, O_NOFOLLOW } = constants;

export interface WriteFileSpec {
  root: string;
  path: Template;
  content: Template;
  mode: number;
  overwrite: boolean;
}

/** A seam for tests: runs after the directories are resolved and before the file is written. */
export interface WriteFileHooks {
  afterResolve?: () => void | Promise<void>;
}

/** The path relative to root this payload gives; refuses anything that could leave root. */
export function renderRelativePath(spec: WriteFileSpec, payload: JsonObject): string[] {
  const rel = render(spec.path, payload);
  if (rel === '' || rel.includes('\0')) throw new HandlerInputError('path: empty or contains NUL');
  if (rel.startsWith('/')) throw new HandlerInputError(`path: '${rel}' is absolute; it must be relative to the root`);
  const parts = rel.split('/');
  for (const p of parts) {
    if (p === '..') throw new HandlerInputError(`path: '${rel}' contains '..'`);
    if (p === '' || p === '.') throw new HandlerInputError(`path: '${rel}' has an empty or '.' component`);
    if (Buffer.byteLength(p) > 255) throw new HandlerInputError(`path: a component of '${rel}' is longer than 255 bytes`);
  }
  return parts;
}

/**
 * Linux has no openat in Node, but `/proc/self/fd/N/name` resolves `name` inside the directory
 * that descriptor N holds, wherever it has been moved since: every step below is anchored to a
 * descriptor opened with O_NOFOLLOW, so there is no window between checking a path and using it.
 */
const under = (dir: FileHandle, name: string) => `/proc/self/fd/${dir.fd}/${name}`;

function isCode(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

async function openSubdirectory(parent: FileHandle, name: string, shown: string): Promise<FileHandle> {
  try {
    await mkdir(under(parent, name), { mode: 0o700 });
  } catch (err) {
    if (!isCode(err, 'EEXIST')) throw err;
  }
  try {
    return await open(under(parent, name), O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
  } catch (err) {
    if (isCode(err, 'ELOOP', 'ENOTDIR'))
      throw new HandlerInputError(`path: '${shown}' is a link or not a directory; links are never followed`);
    throw err;
  }
}

/**
 * Writes the content atomically under root: a temporary file created exclusively (O_EXCL,
 * O_NOFOLLOW) in the resolved directory, fsynced, then moved into place (rename to overwrite,
 * link to refuse an existing name atomically), and the directory fsynced.
 */
export async function writeFileUnderRoot(spec: WriteFileSpec, payload: JsonObject, hooks: WriteFileHooks = {}): Promise<JsonValue> {
  const parts = renderRelativePath(spec, payload);
  const content = Buffer.from(render(spec.content, payload), 'utf8');
  const name = parts.pop()!;
  let dir = await open(spec.root, O_RDONLY | O_DIRECTORY);
  try {
    for (let i = 0; i < parts.length; i++) {
      const next = await openSubdirectory(dir, parts[i]!, parts.slice(0, i + 1).join('/'));
      await dir.close();
      dir = next;
    }
    await hooks.afterResolve?.();
    const tmp = `.${name.slice(0, 200)}.${randomBytes(6).toString('hex')}.openexec-tmp`;
    const file = await open(under(dir, tmp), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, spec.mode);
    try {
      try {
        await file.writeFile(content);
        await file.chmod(spec.mode); // the umask may have narrowed it
        await file.sync();
      } finally {
        await file.close();
      }
      if (spec.overwrite) {
        await rename(under(dir, tmp), under(dir, name)).catch((err: unknown) => {
          if (isCode(err, 'EISDIR', 'ENOTEMPTY', 'EEXIST')) throw new HandlerInputError(`path: '${name}' is a directory`);
          throw err;
        });
      } else {
        await link(under(dir, tmp), under(dir, name)).catch((err: unknown) => {
          if (isCode(err, 'EEXIST'))
            throw new HandlerInputError(`path: '${[...parts, name].join('/')}' already exists and overwrite is off`);
          throw err;
        });
      }
    } finally {
      await unlink(under(dir, tmp)).catch(() => {});
    }
    await dir.sync();
  } finally {
    await dir.close();
  }
  const result = Object.create(null) as JsonObject;
  result['path'] = join(spec.root, ...parts, name);
  result['bytes'] = BigInt(content.length);
  result['sha256'] = createHash('sha256').update(content).digest('hex');
  return result;
}
