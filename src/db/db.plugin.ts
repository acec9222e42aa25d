// Makes the database available to routes as `app.db` (a Kysely instance).
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Db, Dialect } from './connect.js';
import type { Database } from './schema.js';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<Database>;
    dialect: Dialect;
  }
}

export default fp(
  async function dbPlugin(app: FastifyInstance, opts: { db: Db }) {
    app.decorate('db', opts.db.kysely);
    app.decorate('dialect', opts.db.dialect);
  },
  { name: 'db' },
);
