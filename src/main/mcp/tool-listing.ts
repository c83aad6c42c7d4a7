import { Refusal } from '../core/errors.ts';

/**
 * Refuses an upstream's tool listing that gives one name twice. Calls name a tool, and each
 * name is pinned to one definition: with two, what the proxy describes and what it pinned
 * could be different definitions, so no guess is made as to which one counts.
 */
export function refuseDuplicateTools(server: string, tools: readonly { name: string }[]): void {
  const seen = new Set<string>();
  for (const { name } of tools) {
    if (seen.has(name))
      throw new Refusal(
        'invalid_request',
        `The upstream '${server}' lists the tool '${name}' more than once: refused, nothing pinned (a tool name must name one definition)`,
      );
    seen.add(name);
  }
}
