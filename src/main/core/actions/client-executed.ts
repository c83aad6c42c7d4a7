import type { ActionDefinition } from './action-registry.ts';
import type { JsonObject } from '../json/json-value.ts';

/**
 * Client-executed actions: what an agent's own client runs once OpenExec has decided. A Claude
 * Code tool call (`claude-code:TOOL`) is run by Claude Code; an MCP tool call through the proxy
 * (`mcp:SERVER/TOOL`) is forwarded by `openexec mcp proxy`. Their handler runs nothing: it only
 * records that the single-use approval was spent (the decision is the product), so they are
 * registered implicitly, by name, rather than in the manifest.
 *
 * Because any agent can name any such action, they never ride on an open allow-list: each must
 * be listed explicitly, by its exact name or by its family (`claude-code:*`, `mcp:SERVER/*`).
 */
const CLAUDE_CODE = /^claude-code:[A-Za-z0-9_.:-]{1,128}$/;
const MCP = /^mcp:[A-Za-z0-9._-]{1,64}\/[A-Za-z0-9_.\-/]{1,128}$/;
const PATTERN = /^(claude-code:\*|mcp:[A-Za-z0-9._-]{1,64}\/\*)$/;

/** The result every client-executed action's approval executes to. */
export const CLIENT_DECISION: JsonObject = Object.freeze(
  Object.assign(Object.create(null) as JsonObject, { decision: 'allow', executed_by: 'client' }),
);

export function isClientExecuted(action: string): boolean {
  return CLAUDE_CODE.test(action) || MCP.test(action);
}

/** `claude-code:*` or `mcp:SERVER/*`: an allow-list entry standing for a whole family. */
export function isClientFamily(entry: string): boolean {
  return PATTERN.test(entry);
}

/** The family entry that covers a client-executed action. */
export function familyOf(action: string): string {
  return action.startsWith('claude-code:') ? 'claude-code:*' : `${action.slice(0, action.indexOf('/'))}/*`;
}

/** Names and family entries that only an explicit allow-list entry admits. */
export function needsExplicitListing(name: string): boolean {
  return isClientExecuted(name) || isClientFamily(name);
}

const DEFINITION: ActionDefinition = Object.freeze({ kind: 'pure', run: () => CLIENT_DECISION });

/** The definition of a client-executed action. */
export function clientExecutedAction(action: string): ActionDefinition | undefined {
  return isClientExecuted(action) ? DEFINITION : undefined;
}

/**
 * An MCP tool action, whose definition hash is the one pinned for it (tool-pins.ts): an
 * approval is bound to the definition the operator saw and refused at dispatch if another was
 * accepted since. The decision reads the pin within its own witnessed write, so an acceptance
 * at one instance holds at another's next decision.
 */
export function isPinnedTool(action: string): boolean {
  return MCP.test(action);
}
