// `WHERE x IN (…)` over a list of any length: SQLite allows 32766 bound parameters per statement
// and PostgreSQL 65535, so long lists (a large provisioning file) are queried in chunks.
const CHUNK = 1000;

export async function queryInChunks<T, R>(values: readonly T[], query: (chunk: T[]) => Promise<R[]>): Promise<R[]> {
  const unique = [...new Set(values)];
  const results: R[] = [];
  for (let i = 0; i < unique.length; i += CHUNK) results.push(...(await query(unique.slice(i, i + CHUNK))));
  return results;
}

/** `values` in consecutive slices of at most `size` (multi-row inserts under the parameter limit). */
export function* inChunks<T>(values: readonly T[], size = CHUNK): Generator<T[]> {
  for (let i = 0; i < values.length; i += size) yield values.slice(i, i + size);
}
