// A subscriber's grants: stored one row per (scope, dealer), shown and sent back to apply as
// provisioning grants. Read for a whole page of subscribers at once.
import type { Kysely, Selectable } from 'kysely';
import { ANY_DEALER } from '../../auth/scopes.js';
import type { Database, SubscribersTable } from '../../db/schema.js';
import type { GrantSpec } from '../../provisioning/provisioning.schema.js';

/** A subscriber's row with its grant rows. */
export type SubscriberRow = Selectable<SubscribersTable> & { readonly grantRows: readonly { scope: string; dealer_uuid: string }[] };

/** The rows with their grants, in one query for all of them. */
export async function withGrants(db: Kysely<Database>, rows: Selectable<SubscribersTable>[]): Promise<SubscriberRow[]> {
  if (rows.length === 0) return [];
  const all = await db
    .selectFrom('grants')
    .select(['username', 'scope', 'dealer_uuid'])
    .where(
      'username',
      'in',
      rows.map((r) => r.username),
    )
    .execute();
  return rows.map((r) => ({ ...r, grantRows: all.filter((g) => g.username === r.username) }));
}

/**
 * Grant rows as provisioning grants, per scope: a MultiDealer grant as `"*"`, dealer-level
 * grants as one sorted list. Sending them back to apply reproduces exactly the same rows.
 */
export function grantSpecs(rows: SubscriberRow['grantRows']): GrantSpec[] {
  const byScope = new Map<string, string[]>();
  for (const r of rows) byScope.set(r.scope, [...(byScope.get(r.scope) ?? []), r.dealer_uuid]);
  const specs: GrantSpec[] = [];
  for (const [scope, dealers] of [...byScope].sort(([a], [b]) => a.localeCompare(b))) {
    if (dealers.includes(ANY_DEALER)) specs.push({ scope, dealers: ANY_DEALER });
    const named = dealers.filter((d) => d !== ANY_DEALER).sort();
    if (named.length > 0) specs.push({ scope, dealers: named });
  }
  return specs;
}
