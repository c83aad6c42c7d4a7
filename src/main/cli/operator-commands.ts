import { addOperator } from '../core/crypto/operator-keys.ts';
import { KeyFileError } from '../core/crypto/key-file.ts';
import { CliError, type CliOutput } from './cli-error.ts';

/** `operators add NAME`: a further operator key in the data directory (no server needed; a running one loads it when named). */
export function operatorsCommand(dataDir: string, args: string[], out: CliOutput): number {
  const [sub, name, ...extra] = args;
  if (sub !== 'add' || name === undefined || extra.length > 0) throw new CliError('usage: openexec operators add NAME', 2);
  let keyId: string;
  try {
    keyId = addOperator(dataDir, name).keyId;
  } catch (err) {
    if (err instanceof KeyFileError) throw new CliError(err.message);
    throw err;
  }
  if (out.json) return (out.printJson({ name, keyId }), 0);
  out.print(`operator ${name}: key ${keyId} (a running OpenExec loads it when the operator is first named, with a config receipt)`);
  return 0;
}
