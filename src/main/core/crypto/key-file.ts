/**
 * The service's own signing keys (receipt key, operator key) on disk as PKCS#8 PEM.
 *
 * Creation is atomic and race-free: the key is written and fsynced under a private temporary
 * name, then hard-linked to the final name. link(2) fails with EEXIST instead of replacing, so
 * when two processes start at once exactly one key wins and the loser loads it; and a reader can
 * never see a half-written key, because the final name only ever points at a complete file.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Ed25519Signer, KeyFormatError } from './ed25519.ts';

export class KeyFileError extends Error {
  readonly code = 'key_file';
  override name = 'KeyFileError';
}

// POSIX permission bits mean nothing on Windows (ACLs decide there), so the check is skipped.
const CHECK_MODE = process.platform !== 'win32';

function errnoCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

function describe(err: unknown): string {
  return errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Opened without following a link (a key must be the file it claims to be) and without
 * blocking (a FIFO planted as the key would otherwise hang start-up, deaf to SIGTERM);
 * O_NOFOLLOW does not exist on Windows, where the flag is 0.
 */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

/**
 * The file's text, or null when it does not exist. Refuses (like ssh) a key that is not a
 * regular file of ours that no one else can read. Also used for the TLS private key.
 */
export function readKeyFile(file: string): string | null {
  let fd: number;
  try {
    fd = openSync(file, OPEN_FLAGS);
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP')
      throw new KeyFileError(`key file ${file} is a symbolic link; OpenExec does not follow links to keys, put the key file itself there`);
    throw new KeyFileError(`cannot read key file ${file}: ${describe(err)}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyFileError(`key file ${file} is not a regular file`);
    if (CHECK_MODE && typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new KeyFileError(`key file ${file} belongs to another user (uid ${st.uid})`);
    }
    if (CHECK_MODE && (st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new KeyFileError(`key file ${file} is readable by other users (mode ${mode}); run chmod 600 ${file}`);
    }
    return readFileSync(fd, 'utf8');
  } catch (err) {
    if (err instanceof KeyFileError) throw err;
    throw new KeyFileError(`cannot read key file ${file}: ${describe(err)}`);
  } finally {
    closeSync(fd);
  }
}

function parseKeyFile(file: string, pem: string): Ed25519Signer {
  try {
    return Ed25519Signer.fromPkcs8Pem(pem);
  } catch (err) {
    if (err instanceof KeyFormatError) throw new KeyFileError(`key file ${file} is not an Ed25519 private key: ${err.message}`);
    throw err;
  }
}

/** Makes the new directory entry durable; not every platform can fsync a directory. */
function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Windows cannot open directories; the link is still atomic there, only less durable.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Writes a fresh key under `file`; null when another process created `file` first. */
function createKeyFile(file: string): Ed25519Signer | null {
  const dir = dirname(file);
  const signer = Ed25519Signer.generate();
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(8).toString('hex')}.tmp`);
  let fd: number;
  try {
    fd = openSync(tmp, 'wx', 0o600);
  } catch (err) {
    throw new KeyFileError(`cannot create key file in ${dir}: ${describe(err)}`);
  }
  try {
    try {
      writeFileSync(fd, signer.toPkcs8Pem());
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    linkSync(tmp, file);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return null;
    throw new KeyFileError(`cannot create key file ${file}: ${describe(err)}`);
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Already gone is fine; a leftover dot-file holds a key nobody uses and is harmless.
    }
  }
  fsyncDirectory(dir);
  return signer;
}

/**
 * Loads the Ed25519 signing key at `file`, creating it (and its directory, mode 0700) when it
 * does not exist. Throws KeyFileError, with a one-line message naming the file, when the file is
 * a link or not a regular file, belongs to or is reachable by other users, is not an Ed25519
 * PKCS#8 PEM, or cannot be read or written.
 */
export function loadOrCreateSigningKey(file: string, options: { mayCreate?: boolean } = {}): { signer: Ed25519Signer; created: boolean } {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new KeyFileError(`cannot create directory for key file ${file}: ${describe(err)}`);
  }
  const existing = readKeyFile(file);
  if (existing !== null) return { signer: parseKeyFile(file, existing), created: false };
  if (options.mayCreate === false) throw new KeyFileError(`key file ${file} is missing`);
  const signer = createKeyFile(file);
  if (signer !== null) return { signer, created: true };
  const winner = readKeyFile(file);
  if (winner === null) throw new KeyFileError(`key file ${file} disappeared while it was being created`);
  return { signer: parseKeyFile(file, winner), created: false };
}
