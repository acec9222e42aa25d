// Makes the database available to routes: `app.db` (a Kysely instance, for reads) and
// `app.storage` (where writes go: the storage thread's group commit).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Db, Dialect } from '../db/connect.js';
import type { Database } from '../db/schema.js';
import type { Storage } from './storage.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dialect: Dialect;
    storage: Storage;
  }
}

export default fp(
  async function dbPlugin(app: FastifyInstance, opts: { db: Db; storage: Storage }) {
    app.decorate('db', opts.db.kysely);
    app.decorate('storage', opts.storage);
    app.decorate('dialect', opts.db.dialect);
  },
  { name: 'db' },
);
