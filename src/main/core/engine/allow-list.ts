import type { SettingRecords } from '../store/setting-records.ts';
import type { LedgerTransaction } from '../store/ledger-store.ts';
import type { ActionRegistry } from '../actions/action-registry.ts';
import type { AllowListDto } from '../../../shared/console-dto.ts';
import { familyOf, isClientExecuted, needsExplicitListing } from '../actions/client-executed.ts';

const SETTING_KEY = 'allow_list';

/** A list as stored (in its stored order), or null: open. */
type Listed = ReadonlySet<string> | null;

/** A change `set` stored (or found needless), with the list before and after it. */
export interface AllowListChange {
  changed: boolean;
  before: string[] | null;
  list: string[] | null;
}

/**
 * Which registered actions may run. OPENEXEC_ALLOWED_ACTIONS, when set, fixes the list for
 * the life of the process; otherwise the operator's list is kept in the database, and no
 * list at all means "open" (every registered action may run, with a warning).
 *
 * A decision reads the stored list within its own witnessed write (`allowsWithin`), never a
 * copy: with several OpenExec instances on one PostgreSQL database, a change committed at one
 * holds at the other's next decision. The copy kept here (the list last read or written by
 * this instance) serves only what is displayed: `list`, `snapshot` and `isAllowed`.
 */
export class AllowList {
  private readonly fixed: Listed;
  private shown: Listed;

  constructor(
    private readonly settings: SettingRecords,
    private readonly registry: ActionRegistry,
    fromEnvironment: readonly string[] | null,
  ) {
    this.fixed = fromEnvironment ? new Set(fromEnvironment) : null;
    this.shown = this.fixed;
  }

  /** Reads the stored list for display; call once at start, before `list` or `snapshot`. */
  async load(): Promise<void> {
    this.shown = await this.stored(this.settings);
  }

  private async stored(settings: SettingRecords): Promise<Listed> {
    if (this.fixed !== null) return this.fixed;
    const raw = await settings.get(SETTING_KEY);
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
      throw new Error('the stored allow-list is corrupt');
    }
    return new Set(parsed);
  }

  get locked(): boolean {
    return this.fixed !== null;
  }

  /** Inside the witnessed write `tx`: whether `action` may run by the list stored now. */
  allowsWithin(action: string, tx: LedgerTransaction): Promise<boolean> {
    return this.allowsBy(this.settings.within(tx), action);
  }

  /** Outside a witnessed write: whether `action` may run by the list committed now. */
  allowsNow(action: string): Promise<boolean> {
    return this.allowsBy(this.settings, action);
  }

  private async allowsBy(settings: SettingRecords, action: string): Promise<boolean> {
    const listed = await this.stored(settings);
    this.shown = listed;
    return allows(listed, action);
  }

  /** For display: whether `action` is allowed by the list this instance last read or wrote. */
  isAllowed(action: string): boolean {
    return allows(this.shown, action);
  }

  /** For display: the configured list in its configured order (as the Python service lists it), or null when open. */
  list(): string[] | null {
    return this.shown === null ? null : [...this.shown];
  }

  /**
   * Inside the witnessed write `tx` that writes its `config` receipt: stores the change to the
   * list stored now. Allowing an action in an open configuration changes nothing; disallowing
   * one turns the open list into an explicit list of every other registered action, so nothing
   * else changes behaviour.
   */
  async set(action: string, allowed: boolean, tx: LedgerTransaction): Promise<AllowListChange> {
    if (this.locked) throw new Error('allow-list is fixed by OPENEXEC_ALLOWED_ACTIONS');
    const settings = this.settings.within(tx);
    const current = await this.stored(settings);
    const next = this.next(current, action, allowed);
    const changed = allows(current, action) !== allowed;
    if (changed && next !== null) await settings.put(SETTING_KEY, JSON.stringify([...next].sort()));
    return { changed, before: current === null ? null : [...current], list: next === null ? null : [...next].sort() };
  }

  private next(current: Listed, action: string, allowed: boolean): Set<string> | null {
    if (current === null) {
      // A client-executed entry needs a list to be in: every registered action, and it.
      if (allowed) return needsExplicitListing(action) ? new Set([...this.registry.names(), action]) : null;
      return new Set(this.registry.names().filter((a) => a !== action));
    }
    const next = new Set(current);
    if (allowed) next.add(action);
    else next.delete(action);
    return next;
  }

  /** Shows a stored change once its transaction has committed. */
  adopt(list: string[] | null): void {
    this.shown = list === null ? null : new Set(list);
  }

  /** For display: the list this instance last read or wrote, entry by entry. */
  snapshot(): AllowListDto {
    const listed = this.shown;
    const clientListed = listed === null ? [] : [...listed].filter(needsExplicitListing).sort();
    return {
      restriction: listed === null ? 'open' : 'restricted',
      lockedByEnvironment: this.locked,
      entries: [...this.registry.names(), ...clientListed].map((action) => ({
        action,
        allowed: allows(listed, action),
        info: this.registry.get(action)?.info ?? null,
      })),
      unknownListed: listed === null ? [] : [...listed].filter((a) => !this.registry.has(a)).sort(),
    };
  }
}

/** Client-executed actions (and their families) are allowed only by an explicit entry. */
function allows(listed: Listed, action: string): boolean {
  if (needsExplicitListing(action)) {
    return listed !== null && (listed.has(action) || (isClientExecuted(action) && listed.has(familyOf(action))));
  }
  return listed === null || listed.has(action);
}
