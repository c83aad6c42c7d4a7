import { Ed25519Verifier, type Ed25519Signer } from '../crypto/ed25519.ts';
import { KeyFileError } from '../crypto/key-file.ts';
import { loadOperator, operatorNames, PRIMARY_OPERATOR } from '../crypto/operator-keys.ts';
import type { LedgerStore } from '../store/ledger-store.ts';
import { isJsonObject, type JsonObject } from '../json/json-value.ts';
import { parseJson } from '../json/parse.ts';
import { Refusal } from '../errors.ts';
import type { TrustedApprover } from './validate-approval.ts';
import type { OperatorDto } from '../../../shared/console-dto.ts';

/** `details.kind` of the `config` receipt that records an operator key the first time it is loaded. */
export const OPERATOR_KEY_RECEIPT_KIND = 'operator-key';

/**
 * The operator key a `config` receipt of OPERATOR_KEY_RECEIPT_KIND records (its signed body),
 * or null when the body does not carry a usable key under the id it names. Another instance on
 * a shared ledger records its operators' keys the same way, which is how a console learns them.
 */
export function recordedOperatorKey(body: string): Ed25519Verifier | null {
  try {
    const parsed = parseJson(body);
    if (!isJsonObject(parsed)) return null;
    const details = parsed['details'];
    if (!isJsonObject(details) || typeof details['public_key'] !== 'string') return null;
    const verifier = new Ed25519Verifier(Buffer.from(details['public_key'], 'base64'));
    return verifier.keyId === parsed['approver_key_id'] ? verifier : null;
  } catch {
    return null;
  }
}

/**
 * The operators' signing keys by name: the first (`operator-key.pem`) and those `openexec
 * operators add NAME` made (`operators/NAME.pem`). A name it does not know yet is looked up in
 * the data directory when it is asked for (and the directory is read again when the operators
 * are listed), so a key added while OpenExec runs is usable without a restart. A further key is
 * recorded by a `config` receipt (a witnessed write on the LedgerStore) the first time this
 * ledger loads it; from then on it is a trusted operator approver (`approvers`, which the
 * engine's approval policy reads at every decision) and may verify grants. The keys in the
 * directory at start-up are loaded by `loadAll`, which the core awaits before it is used.
 */
export class OperatorRegistry {
  private readonly byName = new Map<string, Ed25519Signer>();
  private readonly verifiers = new Map<string, Ed25519Verifier>();
  /**
   * The approval policy's trusted approvers: `others` (ClawShield's key) first, then every
   * operator key, appended as it loads. The engine's policy holds this very array.
   */
  readonly approvers: TrustedApprover[];
  /** Keys being loaded, so two callers asking for a new one at once write one receipt. */
  private readonly loading = new Map<string, Promise<Ed25519Signer | null>>();

  constructor(
    private readonly dataDir: string,
    primary: Ed25519Signer,
    /** Where a key is recorded, and asked whether it already is. */
    private readonly store: LedgerStore,
    others: readonly TrustedApprover[] = [],
  ) {
    this.approvers = [...others];
    this.adopt(PRIMARY_OPERATOR, primary);
  }

  /** Loads (and records, the first time) every key in the data directory; at start-up. */
  async loadAll(): Promise<void> {
    for (const name of operatorNames(this.dataDir)) if (!this.byName.has(name)) await this.load(name);
  }

  /** The named operator's key, loading it from the data directory if it is new; undefined if there is none. */
  async get(name: string): Promise<Ed25519Signer | undefined> {
    return this.byName.get(name) ?? (await this.load(name)) ?? undefined;
  }

  /** The operator key with this id, for verifying what it signed. */
  verifier(keyId: string): Ed25519Verifier | null {
    return this.verifiers.get(keyId) ?? null;
  }

  /** Every operator, the primary first, after reading the directory again for keys added since. */
  async list(): Promise<OperatorDto[]> {
    await this.loadAll();
    return [...this.byName].map(([name, signer]) => ({ name, keyId: signer.keyId, primary: name === PRIMARY_OPERATOR }));
  }

  private load(name: string): Promise<Ed25519Signer | null> {
    let loading = this.loading.get(name);
    if (loading === undefined) {
      loading = this.loadNew(name).finally(() => this.loading.delete(name));
      this.loading.set(name, loading);
    }
    return loading;
  }

  private async loadNew(name: string): Promise<Ed25519Signer | null> {
    let signer: Ed25519Signer | null;
    try {
      signer = loadOperator(this.dataDir, name);
    } catch (err) {
      // A key file that fails its checks is refused, never half-trusted.
      if (err instanceof KeyFileError) throw new Refusal('conflict', `Operator '${name}' cannot be loaded: ${err.message}`);
      throw err;
    }
    if (signer === null) return null;
    await this.record(name, signer);
    this.adopt(name, signer);
    return signer;
  }

  /**
   * Records the primary operator's key as a further key is recorded, once. On a ledger several
   * instances share, each one's console checks the others' operators' approvals against the
   * keys the ledger records (console-ledger.ts); a SQLite ledger has one instance, whose primary
   * key it knows, and records none (existing ledgers keep their receipts as they were).
   */
  async recordPrimary(): Promise<void> {
    const primary = this.byName.get(PRIMARY_OPERATOR);
    if (primary !== undefined) await this.record(PRIMARY_OPERATOR, primary);
  }

  /** A `config` receipt recording the key, unless one already does. */
  private async record(name: string, signer: Ed25519Signer): Promise<void> {
    if (await this.store.reads.hasConfigBy(OPERATOR_KEY_RECEIPT_KIND, signer.keyId)) return;
    const details = Object.assign(Object.create(null) as JsonObject, {
      kind: OPERATOR_KEY_RECEIPT_KIND,
      change: 'loaded',
      operator: name,
      public_key: Buffer.from(signer.publicKey).toString('base64'),
    });
    const keyId = signer.keyId;
    await this.store.witness((tx) =>
      tx.append({
        event: 'config',
        approver: 'operator',
        approver_key_id: keyId,
        reason: `operator key loaded: ${name} (key ${keyId})`,
        details,
      }),
    );
  }

  private adopt(name: string, signer: Ed25519Signer): void {
    this.byName.set(name, signer);
    if (this.verifiers.has(signer.keyId)) return;
    const verifier = new Ed25519Verifier(signer.publicKey);
    this.verifiers.set(signer.keyId, verifier);
    this.approvers.push({ kind: 'operator', verifier });
  }
}
