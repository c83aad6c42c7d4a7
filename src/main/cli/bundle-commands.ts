import { readRegularFile } from '../core/read-regular-file.ts';
import { writeWhole } from './write-whole.ts';
import type { ExportQuery } from '../../shared/console-schemas.ts';
import { bundleSchema, type ReceiptBundle } from '../core/ledger/bundle/bundle-format.ts';
import { verifyBundle } from '../core/ledger/bundle/verify-bundle.ts';
import { Ed25519Verifier, parsePublicKeyPem } from '../core/crypto/ed25519.ts';
import { approverKeyMap } from '../core/approval/check-evidence.ts';
import type { ConsoleClient } from './console-client.ts';
import { CliError, type CliOutput } from './cli-error.ts';
import { parseEvents } from './console-commands.ts';
import { describeKey, pinned, readPublicKeyFile, unpinnedWarning, type TrustedKey } from './receipt-key.ts';

export interface ExportOptions {
  search?: string | undefined;
  event?: string | undefined;
  action?: string | undefined;
  approverKeyId?: string | undefined;
  /** ISO 8601 times, as the console's time filters. */
  from?: string | undefined;
  to?: string | undefined;
  fromSeq?: string | undefined;
  toSeq?: string | undefined;
}

function seqOption(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1) throw new CliError(`${name} must be a receipt number (1 or more), got '${text}'`, 2);
  return Number(text);
}

/**
 * `openexec export --out FILE [filters]`: the running console builds the bundle (the same
 * code and bytes as the window's Export) and it is written here, whole or not at all.
 */
export async function exportCommand(client: ConsoleClient, outFile: string | undefined, o: ExportOptions, out: CliOutput): Promise<number> {
  if (outFile === undefined) throw new CliError('export needs --out FILE', 2);
  const events = parseEvents(o.event);
  const fromSeq = seqOption(o.fromSeq, '--from-seq');
  const toSeq = seqOption(o.toSeq, '--to-seq');
  if (fromSeq !== undefined && toSeq !== undefined && fromSeq > toSeq) throw new CliError('--from-seq must not be after --to-seq', 2);
  const query: ExportQuery = {
    ...(o.search !== undefined ? { text: o.search } : {}),
    ...(events?.length ? { events } : {}),
    ...(o.action !== undefined ? { action: o.action } : {}),
    ...(o.approverKeyId !== undefined ? { approverKeyId: o.approverKeyId } : {}),
    ...(o.from !== undefined ? { from: o.from } : {}),
    ...(o.to !== undefined ? { to: o.to } : {}),
    ...(fromSeq !== undefined ? { fromSeq } : {}),
    ...(toSeq !== undefined ? { toSeq } : {}),
  };
  const bundle = await client.call('exportBundle', query);
  writeWhole(outFile, bundle.text, 'bundle');
  const { text: _text, ...summary } = bundle;
  if (out.json) out.printJson({ ...summary, file: outFile });
  else {
    out.print(
      `exported ${bundle.count} receipts to ${outFile}${bundle.complete ? '' : ' (only the newest: the query matches more; narrow it)'}` +
        `, with a signed checkpoint of ${bundle.checkpointSize} receipts and their inclusion proofs`,
    );
  }
  return 0;
}

export interface VerifyBundleOptions {
  publicKeyFile?: string | undefined;
  keyId?: string | undefined;
  /** Approver public keys (PEM) the reviewer trusts instead of the ones the bundle carries. */
  approverKeyFiles?: string[] | undefined;
}

function readBundle(file: string): ReceiptBundle {
  let text: string;
  try {
    text = readRegularFile(file);
  } catch (err) {
    throw new CliError(`cannot read the bundle ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not JSON`, 3);
  }
  const parsed = bundleSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliError(
      `${file} is not a receipt bundle: ${issue ? `${issue.path.join('.') || '(top)'}: ${issue.message}` : 'bad shape'}`,
      3,
    );
  }
  return parsed.data;
}

function bundleKey(bundle: ReceiptBundle): TrustedKey {
  try {
    return { verifier: new Ed25519Verifier(parsePublicKeyPem(bundle.public_key_pem)), source: 'the bundle itself' };
  } catch (err) {
    throw new CliError(`the bundle's public_key_pem is not usable: ${(err as Error).message}`, 3);
  }
}

/**
 * `openexec verify-bundle FILE`: offline; exit 3 naming the first problem. The receipt key is
 * `--public-key`, else the bundle's own (which proves nothing about who made the bundle unless
 * `--key-id` pins it to the id the reviewer got out of band).
 */
export async function verifyBundleCommand(file: string, options: VerifyBundleOptions, out: CliOutput): Promise<number> {
  const bundle = readBundle(file);
  const key = pinned(
    options.publicKeyFile !== undefined
      ? { verifier: readPublicKeyFile(options.publicKeyFile), source: `--public-key ${options.publicKeyFile}`, pinned: true }
      : bundleKey(bundle),
    options.keyId,
  );
  let approverSource: string;
  let approvers;
  if (options.approverKeyFiles && options.approverKeyFiles.length > 0) {
    approvers = approverKeyMap(options.approverKeyFiles.map(readPublicKeyFile));
    approverSource = `--approver-key ${options.approverKeyFiles.join(', ')}`;
  } else {
    try {
      approvers = approverKeyMap(bundle.approver_keys.map((k) => new Ed25519Verifier(parsePublicKeyPem(k.public_key_pem))));
    } catch (err) {
      throw new CliError(`the bundle's approver_keys are not usable: ${(err as Error).message}`, 3);
    }
    approverSource = 'the bundle itself';
  }
  const verdict = await verifyBundle(bundle, key.verifier, approvers);
  const approverIds = [...approvers.keys()];
  if (out.json) {
    out.printJson({
      ...verdict,
      file,
      trustedKey: { keyId: key.verifier.keyId, source: key.source },
      approverKeys: { keyIds: approverIds, source: approverSource },
    });
    return verdict.valid ? 0 : 3;
  }
  out.print(`trusted ${describeKey(key)}; approver keys ${approverIds.join(', ') || '(none)'} (from ${approverSource})`);
  const warning = unpinnedWarning(key);
  if (warning) out.print(warning);
  if (verdict.valid) {
    out.print(
      `bundle valid: ${bundle.receipts.length} receipts, signatures, hashes, links between consecutive receipts and inclusion proofs ` +
        `against the signed checkpoint of ${verdict.checkpointSize} receipts hold; ${verdict.resultsChecked} results, ` +
        `${verdict.bodiesChecked} receipts' bodies against their salted hashes and ${verdict.approvalsChecked} approvals checked${bundle.complete ? '' : ' (the bundle is not complete: only the newest matches)'}`,
    );
    if (verdict.approvalsWithoutEvidence > 0)
      out.print(`note: ${verdict.approvalsWithoutEvidence} receipts name an approval but keep no approval evidence`);
  } else {
    out.print(`bundle INVALID: ${verdict.problems[0]}`);
    for (const p of verdict.problems.slice(1)) out.print(`  also: ${p}`);
  }
  return verdict.valid ? 0 : 3;
}
