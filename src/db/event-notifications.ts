// Wakes separate worker processes when events are stored. PostgreSQL: LISTEN on the channel the
// gate's batches NOTIFY (dialect.ts) on one dedicated connection, so a worker starts within
// milliseconds instead of at its next poll. The poll (WORKER_POLL_MS) stays as the fallback:
// a lost connection only delays work, it is re-established with backoff and logged. SQLite
// has no such channel; workers there poll.
import { createRequire } from 'node:module';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { DatabaseConfig } from '../core/config.js';
import { EVENTS_CHANNEL } from './dialect.js';

const require = createRequire(import.meta.url);

export interface EventListener {
  close(): Promise<void>;
}

export function listenForEvents(database: DatabaseConfig, log: FastifyBaseLogger, onEvents: () => void): EventListener {
  if (database.dialect !== 'postgres') return { close: async () => {} };
  const { Client } = require('pg') as typeof pg;
  let client: pg.Client | undefined;
  let closed = false;
  let retryMs = 500;
  let timer: NodeJS.Timeout | undefined;

  const connectNow = async () => {
    const c = new Client({ connectionString: database.url, connectionTimeoutMillis: 5000 });
    client = c;
    c.on('notification', () => onEvents());
    c.on('error', (err) => {
      log.warn({ err }, 'event notifications lost; polling until they are back');
      retry(c);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      retryMs = 500;
      // Events stored while no one listened are found now rather than at the next poll.
      onEvents();
    } catch (err) {
      log.warn({ err }, 'could not listen for event notifications; polling until it can');
      retry(c);
    }
  };
  const retry = (c: pg.Client) => {
    if (closed || client !== c) return;
    client = undefined;
    c.end().catch(() => {});
    timer = setTimeout(() => void connectNow(), retryMs);
    retryMs = Math.min(retryMs * 2, 30_000);
  };
  void connectNow();
  return {
    async close() {
      closed = true;
      clearTimeout(timer);
      await client?.end().catch(() => {});
    },
  };
}
