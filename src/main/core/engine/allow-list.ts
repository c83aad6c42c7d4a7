import type { SettingsStore } from '../store/settings-store.ts';
import type { ActionRegistry } from '../actions/action-registry.ts';
import type { AllowListDto } from '../../../shared/console-dto.ts';
import { familyOf, isClientExecuted, needsExplicitListing } from '../actions/client-executed.ts';

const SETTING_KEY = 'allow_list';

/**
 * Which registered actions may run. OPENEXEC_ALLOWED_ACTIONS, when set, fixes the list for
 * the life of the process; otherwise the operator's list is kept in the database, and no
 * list at all means "open" (every registered action may run, with a warning).
 */
export class AllowList {
  private current: ReadonlySet<string> | null;

  constructor(
    private readonly settings: SettingsStore,
    private readonly registry: ActionRegistry,
    private readonly fromEnvironment: readonly string[] | null,
  ) {
    this.current = fromEnvironment ? new Set(fromEnvironment) : this.load();
  }

  private load(): ReadonlySet<string> | null {
    const raw = this.settings.get(SETTING_KEY);
    if (raw === null) return null;
    const parsed: unknown = JSON.parse(raw);
    if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
      throw new Error('the stored allow-list is corrupt');
    }
    return new Set(parsed);
  }

  get locked(): boolean {
    return this.fromEnvironment !== null;
  }

  /** Client-executed actions (and their families) are allowed only by an explicit entry. */
  isAllowed(action: string): boolean {
    const listed = this.current;
    if (needsExplicitListing(action)) {
      return listed !== null && (listed.has(action) || (isClientExecuted(action) && listed.has(familyOf(action))));
    }
    return listed === null || listed.has(action);
  }

  /** The configured list in its configured order (as the Python service lists it), or null when open. */
  list(): string[] | null {
    return this.current === null ? null : [...this.current];
  }

  /**
   * Returns the list that `set` would produce, without storing it. Allowing an action in an
   * open configuration changes nothing; disallowing one turns the open list into an explicit
   * list of every other registered action, so nothing else changes behaviour.
   */
  private next(action: string, allowed: boolean): Set<string> | null {
    if (this.current === null) {
      // A client-executed entry needs a list to be in: every registered action, and it.
      if (allowed) return needsExplicitListing(action) ? new Set([...this.registry.names(), action]) : null;
      return new Set(this.registry.names().filter((a) => a !== action));
    }
    const next = new Set(this.current);
    if (allowed) next.add(action);
    else next.delete(action);
    return next;
  }

  /** Stores the change; call inside the transaction that writes its `config` receipt. */
  set(action: string, allowed: boolean): { changed: boolean; list: string[] | null } {
    if (this.locked) throw new Error('allow-list is fixed by OPENEXEC_ALLOWED_ACTIONS');
    const next = this.next(action, allowed);
    const changed = this.isAllowed(action) !== allowed;
    if (changed && next !== null) this.settings.put(SETTING_KEY, JSON.stringify([...next].sort()));
    return { changed, list: next === null ? null : [...next].sort() };
  }

  /** Adopts a stored change once its transaction has committed. */
  adopt(list: string[] | null): void {
    this.current = list === null ? null : new Set(list);
  }

  snapshot(): AllowListDto {
    const listed = this.current;
    const clientListed = listed === null ? [] : [...listed].filter(needsExplicitListing).sort();
    return {
      restriction: listed === null ? 'open' : 'restricted',
      lockedByEnvironment: this.locked,
      entries: [...this.registry.names(), ...clientListed].map((action) => ({
        action,
        allowed: this.isAllowed(action),
        info: this.registry.get(action)?.info ?? null,
      })),
      unknownListed: listed === null ? [] : [...listed].filter((a) => !this.registry.has(a)).sort(),
    };
  }
}
