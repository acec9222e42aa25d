// GET /metrics (Prometheus text format) and the app's metrics as one object, made by buildApp
// before the storage opens (its stats feed them) and decorated as `app.metrics`.
// /metrics has no authentication: expose it to the operator network only (docs/operations.md).
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Config } from '../core/config.js';
import type { Database } from '../db/schema.js';
import { destinationState } from '../delivery/delivery.repository.js';
import { readBacklog } from '../eventlog/backlog.js';
import { plainErrors } from '../http/error-schemas.js';
import { backlogs } from '../outbox/outbox.read.js';
import { stuckAfterMs, WorkerHeartbeat } from './heartbeat.js';
import { createMetrics, type DestinationReading } from './metrics.js';
import { PipelineMetrics } from './pipeline-metrics.js';
import { RequestMetrics } from './request-metrics.js';

export interface AppMetrics {
  readonly registry: Registry;
  /** Per answer: HTTP durations, the gate's and lead saves' counters, auth failures. */
  readonly requests: RequestMetrics;
  /** The worker's and the group commit's counts, from the storage thread or inline. */
  readonly pipeline: PipelineMetrics;
  /** The in-process worker's heartbeat, which /readyz checks. */
  readonly heartbeat: WorkerHeartbeat;
}

declare module 'fastify' {
  interface FastifyInstance {
    metrics: AppMetrics;
  }
}

/** The app's metrics; `db` is the request thread's read connection (the backlog is read on it at scrape time). */
/** Each destination's state and backlog, for the delivery gauges. */
async function readDestinations(db: Kysely<Database>): Promise<DestinationReading[]> {
  const rows = await db.selectFrom('destinations').selectAll().execute();
  if (rows.length === 0) return [];
  const waiting = await backlogs(db);
  const now = Date.now();
  return rows.map((row) => {
    const b = waiting.get(row.name);
    return {
      name: row.name,
      state: destinationState(row, now),
      waiting: b?.waiting ?? 0,
      failed: b?.failed ?? 0,
      oldestWaiting: b?.oldestWaiting ?? null,
    };
  });
}

export function createAppMetrics(config: Config, db: Kysely<Database>, log: FastifyBaseLogger): AppMetrics {
  const heartbeat = new WorkerHeartbeat(config.workerEnabled, stuckAfterMs(config.worker));
  const metrics = createMetrics(
    {
      backlog: () => readBacklog(db),
      destinations: () => readDestinations(db),
      ...(heartbeat.enabled ? { heartbeatAgeSeconds: () => heartbeat.ageMs() / 1000 } : {}),
    },
    log,
  );
  return {
    registry: metrics.registry,
    requests: new RequestMetrics(metrics),
    pipeline: new PipelineMetrics(metrics, heartbeat),
    heartbeat,
  };
}

export default fp(
  async function metricsPlugin(app: FastifyInstance, opts: { metrics: AppMetrics }) {
    const { registry } = opts.metrics;
    app.decorate('metrics', opts.metrics);
    app.get(
      '/metrics',
      {
        config: { envelope: 'plain', admission: 'always' },
        schema: {
          tags: ['health'],
          summary: 'Prometheus metrics (text exposition format); for the operator network only',
          response: {
            200: {
              description: 'Every metric with its HELP and TYPE (docs/operations.md, "Metrics")',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
            ...plainErrors,
          },
        },
      },
      async (_request, reply) => {
        const text = await registry.metrics();
        return reply.type(registry.contentType).send(text);
      },
    );
  },
  { name: 'metrics', dependencies: ['db'] },
);
