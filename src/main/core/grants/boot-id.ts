import { randomUUID } from 'node:crypto';

/**
 * A run of one OpenExec instance, which an `until_restart` grant is bound to:
 * `<instance's receipt key id>:<random UUID>`. Several instances can share one PostgreSQL
 * database, each with its own receipt key, so the key says whose run it was: another run of
 * the same instance (a restart) ends the grant, while another instance's run neither uses nor
 * ends it. Boot ids written before they named the instance are bare UUIDs.
 */
export function newBootId(instanceKeyId: string): string {
  return `${instanceKeyId}:${randomUUID()}`;
}

/** The receipt key id of the instance whose run `bootId` is, or null for a bare UUID from before. */
export function instanceOfBoot(bootId: string): string | null {
  const colon = bootId.indexOf(':');
  return colon < 0 ? null : bootId.slice(0, colon);
}
