// The near-limit reference: what a careful engineer writes in forty lines with the service's own
// libraries to take events durably — Fastify, the Basic header compared with one cached value,
// the JSON body stored raw in one table with a text primary key, by group commit on the event loop
// (rows collected until setImmediate, one transaction), 200 only after COMMIT. No validation, no
// pipeline, no logging. The service's gate is read as a fraction of this, not of a bare route.
// SQLite: WAL, synchronous=FULL. PostgreSQL: each batch one multi-row INSERT through a pg pool
// (synchronous_commit on). REFERENCE_DATABASE_URL (a file path or postgres://…) and
// REFERENCE_AUTHORIZATION (the whole header) configure it; prints its port, stops on SIGTERM.
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';

const url = process.env.REFERENCE_DATABASE_URL ?? '';
const authorization = process.env.REFERENCE_AUTHORIZATION ?? '';
const TABLE = 'CREATE TABLE IF NOT EXISTS reference_events (request_id TEXT PRIMARY KEY, body TEXT NOT NULL)';
type Row = readonly [requestId: string, body: string];

/** Writes one batch in one transaction; resolves after COMMIT. */
let writeBatch: (rows: readonly Row[]) => Promise<void>;
let close: () => Promise<void>;
if (url.startsWith('postgres')) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query(TABLE);
  writeBatch = async (rows) => {
    const values = rows.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ');
    await pool.query(`INSERT INTO reference_events (request_id, body) VALUES ${values}`, rows.flat());
  };
  close = () => pool.end();
} else {
  const db = new Database(url);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(TABLE);
  const insert = db.prepare('INSERT INTO reference_events (request_id, body) VALUES (?, ?)');
  const insertAll = db.transaction((rows: readonly Row[]) => {
    for (const row of rows) insert.run(row[0], row[1]);
  });
  writeBatch = async (rows) => insertAll(rows);
  close = async () => {
    db.close();
  };
}

let rows: Row[] = [];
let waiting: { resolve: () => void; reject: (err: unknown) => void }[] = [];
function flush(): void {
  const batch = rows;
  const waiters = waiting;
  rows = [];
  waiting = [];
  writeBatch(batch).then(
    () => {
      for (const w of waiters) w.resolve();
    },
    (err) => {
      for (const w of waiters) w.reject(err);
    },
  );
}
function store(row: Row): Promise<void> {
  if (rows.length === 0) setImmediate(flush);
  rows.push(row);
  return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
}

const app = Fastify({ logger: false });
app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => done(null, body));
app.post('/service-pre-diag/third-party-events/vehicle-service-chat/v1', async (request, reply) => {
  if (request.headers.authorization !== authorization) return reply.code(401).send({ errors: ['unauthorized'] });
  const requestId = randomUUID();
  await store([requestId, request.body as string]);
  return { errors: [], warnings: [], requestId };
});

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
process.once('SIGTERM', () => {
  app
    .close()
    .then(close)
    .then(() => process.exit(0));
});
