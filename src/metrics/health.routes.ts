// Liveness (the process answers) and readiness (the database answers and, when the pipeline
// worker runs in this process, its loop still turns: src/metrics/heartbeat.ts).

import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { AppError } from '../core/errors.js';
import { plainErrors } from '../http/error-schemas.js';
import type { WorkerHeartbeat } from './heartbeat.js';

const statusSchema = {
  type: 'object',
  properties: { status: { type: 'string' } },
  required: ['status'],
} as const;

export interface HealthRoutesOptions {
  /** The in-process worker's heartbeat; readiness fails while it is stuck. */
  readonly heartbeat?: WorkerHeartbeat;
}

export default async function healthRoutes(app: FastifyInstance, opts: HealthRoutesOptions): Promise<void> {
  const { heartbeat } = opts;
  app.get(
    '/healthz',
    {
      config: { envelope: 'plain', admission: 'always' },
      schema: { tags: ['health'], summary: 'The process is up', response: { 200: statusSchema, ...plainErrors } },
    },
    async () => ({ status: 'ok' }),
  );
  app.get(
    '/readyz',
    {
      config: { envelope: 'plain', admission: 'always' },
      schema: {
        tags: ['health'],
        summary: 'The database is reachable and the in-process pipeline worker is not stuck',
        response: { 200: statusSchema, ...plainErrors },
      },
    },
    async (request) => {
      try {
        await sql`select 1`.execute(app.db);
      } catch (err) {
        request.log.warn({ reqId: request.id, err }, 'readiness check failed');
        throw new AppError('SERVICE_UNAVAILABLE', 'Database is not reachable');
      }
      if (heartbeat?.stuck()) {
        const silentForMs = heartbeat.ageMs();
        request.log.warn(
          { reqId: request.id, silentForMs, stuckAfterMs: heartbeat.stuckAfterMs },
          'readiness check failed: the pipeline worker is stuck',
        );
        throw new AppError('SERVICE_UNAVAILABLE', `The pipeline worker's last heartbeat was ${Math.round(silentForMs / 1000)} s ago`);
      }
      return { status: 'ready' };
    },
  );
}
