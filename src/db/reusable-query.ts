// A query the hot path runs over and over with different values: built and compiled by Kysely
// once per database, then executed with new parameters. Building and compiling a small SELECT
// costs more than SQLite takes to run it; the worker runs two per event.
import type { CompiledQuery, Kysely } from 'kysely';
import type { Database } from './schema.js';

interface Compilable<Row> {
  compile(): CompiledQuery<Row>;
}

/**
 * `build` makes the query with placeholder values; the parameters passed later replace them in
 * the order they appear in the compiled SQL (the order of the builder calls).
 */
export function reusableQuery<Row>(build: (db: Kysely<Database>) => Compilable<Row>) {
  const compiled = new WeakMap<Kysely<Database>, CompiledQuery<Row>>();
  return async (db: Kysely<Database>, parameters: readonly unknown[]): Promise<Row | undefined> => {
    let query = compiled.get(db);
    if (query === undefined) {
      query = build(db).compile();
      if (query.parameters.length !== parameters.length) throw new Error('reusableQuery: parameter count differs');
      compiled.set(db, query);
    }
    const result = await db.executeQuery<Row>({ ...query, parameters });
    return result.rows[0];
  };
}
