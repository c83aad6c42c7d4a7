import type { KeyInfoDto } from '../../../shared/console-dto.ts';
import { fail, ok, type ConsoleResult } from '../../../shared/console-result.ts';
import { consoleCodeOf } from '../../../shared/error-codes.ts';
import { Refusal } from '../errors.ts';
import { storageFullDetail } from '../store/storage-full.ts';
import { publicKeyToPem } from '../crypto/ed25519.ts';

/** Turns thrown refusals into typed values; anything else is an internal error. */
export async function guarded<T>(work: () => T | Promise<T>): Promise<ConsoleResult<T>> {
  try {
    return ok(await work());
  } catch (err) {
    if (err instanceof Refusal) return fail(consoleCodeOf(err.code), err.detail);
    const full = storageFullDetail(err);
    if (full !== null) return fail('unavailable', full);
    process.stderr.write(`openexec: console error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return fail('internal', 'Internal error; see the OpenExec log');
  }
}

export function keyInfo(raw: Uint8Array, keyId: string): KeyInfoDto {
  return { keyId, publicKeyPem: publicKeyToPem(raw) };
}
