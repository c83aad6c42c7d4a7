import type { PgSession } from './pg-session.ts';

/** Seen in pg_stat_activity, so an operator can tell the listening connection apart. */
export const FOLLOWER_APPLICATION_NAME = 'openexec-ledger-follower';

/**
 * The `application_name` of an instance's notification connection, which it holds for as long
 * as it runs (reconnecting when it is lost): with its receipt key id, it says which instance is
 * connected (instanceConnected).
 */
export function followerApplicationName(keyId: string | undefined): string {
  return keyId === undefined ? FOLLOWER_APPLICATION_NAME : `${FOLLOWER_APPLICATION_NAME} ${keyId}`;
}

/**
 * Whether an instance signing with `keyId` is connected to this database now: its notification
 * connection is listed in pg_stat_activity. Every role sees every session's application_name
 * there (only the query text and state of other roles' sessions are hidden), so the application
 * role can ask. An instance cut off from the server (a network partition, the seconds while its
 * connection is re-established) is not seen: the operator who retires a key still answers for
 * the instance being gone (README, "PostgreSQL").
 */
export async function instanceConnected(db: PgSession, keyId: string): Promise<boolean> {
  const { rows } = await db.query<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND pid <> pg_backend_pid()',
    [followerApplicationName(keyId)],
  );
  return Number(rows[0]!.n) > 0;
}
