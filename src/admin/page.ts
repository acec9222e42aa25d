// Keyset pages of the admin lists. A query asks for one row more than the page holds: that row
// tells whether another page follows, and the cursor names the key of the page's last row, so
// the next page starts strictly after it and rows added in between never repeat or skip one.
import { type SelectQueryBuilder, sql } from 'kysely';
import { decodeCursor, encodeCursor } from './cursor.js';

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

/** The page and the cursor of the row after it; the query asked for limit + 1 rows. */
export function pageOf<R, T>(rows: R[], limit: number, toItem: (row: R) => T, keyOf: (row: R) => (string | number)[]): Page<T> {
  return { items: rows.slice(0, limit).map(toItem), nextCursor: cursorAfter(rows, limit, keyOf) };
}

/** The cursor of the page's last row when a row follows it, else null (the last page). */
function cursorAfter<R>(rows: R[], limit: number, keyOf: (row: R) => (string | number)[]): string | null {
  const last = rows[limit - 1];
  return rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null;
}

/**
 * The keyset condition of a two-column sort: rows whose (first, second) lies strictly `past` the
 * cursor's key ('>' ascending, '<' descending), so ties on the first column resume on the second.
 */
export const pastPair = ([first, second]: readonly [string, string], [a, b]: readonly (string | number)[], past: '>' | '<') =>
  sql<boolean>`(${sql.ref(first)} ${sql.raw(past)} ${a} OR (${sql.ref(first)} = ${a} AND ${sql.ref(second)} ${sql.raw(past)} ${b}))`;

/**
 * A page of `query` in ascending order of its text column `key` (a unique one: a UUID or a
 * username). `toItems` turns the page's rows into what the API shows, all at once (subscribers
 * need their grants: one query for the page, not one per row).
 */
export async function pageByKey<DB, TB extends keyof DB, K extends string, R extends Record<K, string>, T>(
  query: SelectQueryBuilder<DB, TB, R>,
  key: K,
  page: PageRequest,
  toItems: (rows: R[]) => T[] | Promise<T[]>,
): Promise<Page<T>> {
  const after = page.cursor === undefined ? query : query.where(sql<boolean>`${sql.ref(key)} > ${decodeCursor(page.cursor, 's')[0]}`);
  const rows: R[] = await after
    .orderBy(sql.ref(key))
    .limit(page.limit + 1)
    .execute();
  return { items: await toItems(rows.slice(0, page.limit)), nextCursor: cursorAfter(rows, page.limit, (row) => [row[key]]) };
}
