// The service's Prometheus metrics: a Registry of its own per app (tests build many apps in one
// process; prom-client's global registry is never used), every metric with its HELP text, and
// Node's default process metrics. docs/operations.md ("Metrics") lists them for operators.
import type { FastifyBaseLogger } from 'fastify';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Backlog } from '../eventlog/backlog.js';

const PREFIX = 'dealer_gateway_';

/** What is read when /metrics is scraped rather than counted as it happens. */
export interface ScrapeSources {
  /** The pipeline's backlog (a query). */
  backlog(): Promise<Backlog>;
  /** Seconds since the in-process worker's last heartbeat; absent when no worker runs here. */
  readonly heartbeatAgeSeconds?: () => number;
  /** Each destination's state and what waits for it (a query). */
  destinations(): Promise<readonly DestinationReading[]>;
}

export interface DestinationReading {
  readonly name: string;
  readonly state: string;
  readonly waiting: number;
  readonly failed: number;
  readonly oldestWaiting: number | null;
}

const DESTINATION_STATES = ['healthy', 'failing', 'breaker-open', 'disabled'] as const;

export type MetricSet = ReturnType<typeof createMetrics>;

export function createMetrics(sources: ScrapeSources, log: FastifyBaseLogger) {
  const registry = new Registry();
  const registers = [registry];
  // Both backlog gauges come from one query per scrape: the registry collects them concurrently,
  // so the second one joins the first one's query. A failed query shows as NaN, and the rest of
  // the scrape still answers (readiness reports the database itself).
  let reading: Promise<Backlog | undefined> | undefined;
  const backlog = () =>
    (reading ??= sources
      .backlog()
      .catch((err: unknown) => {
        log.warn({ err }, 'metrics: the backlog could not be read');
        return undefined;
      })
      .finally(() => {
        reading = undefined;
      }));

  // The destination gauges share one query per scrape, like the backlog's.
  let readingDestinations: Promise<readonly DestinationReading[] | undefined> | undefined;
  const destinations = () =>
    (readingDestinations ??= sources
      .destinations()
      .catch((err: unknown) => {
        log.warn({ err }, 'metrics: the destinations could not be read');
        return undefined;
      })
      .finally(() => {
        readingDestinations = undefined;
      }));

  collectDefaultMetrics({ register: registry });

  return {
    registry,
    gateReceived: new Counter({
      name: `${PREFIX}gate_events_received_total`,
      help: 'Requests to an event gate, whatever their answer (subscriber "-" when not authenticated).',
      labelNames: ['subscriber', 'event_type'] as const,
      registers,
    }),
    gateAcknowledged: new Counter({
      name: `${PREFIX}gate_events_acknowledged_total`,
      help: 'Events the gate acknowledged with 200: durably stored (or an idempotent repeat of a stored one).',
      labelNames: ['subscriber', 'event_type'] as const,
      registers,
    }),
    gateRejected: new Counter({
      name: `${PREFIX}gate_events_rejected_total`,
      help: 'Events the gate refused (4xx/5xx), by error code; nothing was stored for them.',
      labelNames: ['subscriber', 'event_type', 'code'] as const,
      registers,
    }),
    pipelineEvents: new Counter({
      name: `${PREFIX}pipeline_events_total`,
      help: 'Events the in-process worker finished an attempt on, by outcome: processed, rejected (final), retried (transient failure, rescheduled), failed (gave up: FAILED), lease_lost.',
      labelNames: ['subscriber', 'event_type', 'outcome'] as const,
      registers,
    }),
    backlogEvents: new Gauge({
      name: `${PREFIX}pipeline_backlog_events`,
      help: 'Events in status RECEIVED (waiting, claimed or waiting for a retry), read at scrape time; NaN when the database did not answer.',
      registers,
      async collect() {
        this.set((await backlog())?.events ?? Number.NaN);
      },
    }),
    backlogAge: new Gauge({
      name: `${PREFIX}pipeline_backlog_oldest_age_seconds`,
      help: 'Age of the oldest RECEIVED event in seconds (0 when there is none), read at scrape time; NaN when the database did not answer.',
      registers,
      async collect() {
        const read = await backlog();
        if (read === undefined) this.set(Number.NaN);
        else this.set(read.oldestReceivedAt === null ? 0 : Math.max(0, (Date.now() - read.oldestReceivedAt) / 1000));
      },
    }),
    ...(sources.heartbeatAgeSeconds === undefined
      ? {}
      : {
          workerHeartbeatAge: new Gauge({
            name: `${PREFIX}worker_heartbeat_age_seconds`,
            help: 'Seconds since the in-process pipeline worker last went round its loop; /readyz fails past its bound.',
            registers,
            collect() {
              this.set(sources.heartbeatAgeSeconds?.() ?? Number.NaN);
            },
          }),
        }),
    commitBatchSize: new Histogram({
      name: `${PREFIX}group_commit_batch_size`,
      help: 'Request writes (events and lead saves) per group commit, i.e. per fsync; commits of worker tasks alone are not observed.',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    }),
    httpDuration: new Histogram({
      name: `${PREFIX}http_request_duration_seconds`,
      help: 'Time from a request’s arrival to its answer, by route pattern ("unmatched" when no route), method and status code.',
      labelNames: ['route', 'method', 'status_code'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    leadSaves: new Counter({
      name: `${PREFIX}lead_saves_total`,
      help: 'Answers to lead saves by outcome: created, updated, or rejected with its error code.',
      labelNames: ['subscriber', 'outcome', 'code'] as const,
      registers,
    }),
    deliveryCreated: new Counter({
      name: `${PREFIX}delivery_messages_created_total`,
      help: "Messages written to the outbox (in their outcome's commit) by this process, by destination and type.",
      labelNames: ['destination', 'type'] as const,
      registers,
    }),
    deliveryAttempts: new Counter({
      name: `${PREFIX}delivery_attempts_total`,
      help: 'Attempts this process made to send a message, by what they led to: delivered, retry (another attempt scheduled), dead (the schedule was used up: FAILED), held (410: the destination was disabled).',
      labelNames: ['destination', 'type', 'outcome'] as const,
      registers,
    }),
    deliveryAttemptDuration: new Histogram({
      name: `${PREFIX}delivery_attempt_duration_seconds`,
      help: 'One attempt, from the request to the end of the answer (or the error), by destination.',
      labelNames: ['destination'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
      registers,
    }),
    deliveryLag: new Histogram({
      name: `${PREFIX}delivery_lag_seconds`,
      help: 'From the commit of an outcome to the 2xx of its message (retries included), for messages this process delivered.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400],
      registers,
    }),
    deliveryHealthChanges: new Counter({
      name: `${PREFIX}delivery_health_changes_total`,
      help: 'Destination health changes this process recorded: breaker-opened, breaker-closed, disabled.',
      labelNames: ['destination', 'change'] as const,
      registers,
    }),
    deliveryWaiting: new Gauge({
      name: `${PREFIX}delivery_backlog_messages`,
      help: 'Messages PENDING per destination (due, in flight, or waiting for a retry), read at scrape time.',
      labelNames: ['destination'] as const,
      registers,
      async collect() {
        this.reset();
        for (const d of (await destinations()) ?? []) this.labels(d.name).set(d.waiting);
      },
    }),
    deliveryOldestAge: new Gauge({
      name: `${PREFIX}delivery_backlog_oldest_age_seconds`,
      help: 'Age of the oldest PENDING message per destination in seconds (0 when none), read at scrape time.',
      labelNames: ['destination'] as const,
      registers,
      async collect() {
        this.reset();
        const now = Date.now();
        for (const d of (await destinations()) ?? []) {
          this.labels(d.name).set(d.oldestWaiting === null ? 0 : Math.max(0, (now - d.oldestWaiting) / 1000));
        }
      },
    }),
    deliveryDeadLetters: new Gauge({
      name: `${PREFIX}delivery_dead_letters`,
      help: 'Messages FAILED (their schedule used up) per destination, read at scrape time.',
      labelNames: ['destination'] as const,
      registers,
      async collect() {
        this.reset();
        for (const d of (await destinations()) ?? []) this.labels(d.name).set(d.failed);
      },
    }),
    deliveryState: new Gauge({
      name: `${PREFIX}delivery_destination_state`,
      help: "Each destination's health: 1 for its current state (healthy, failing, breaker-open, disabled), 0 for the others.",
      labelNames: ['destination', 'state'] as const,
      registers,
      async collect() {
        this.reset();
        for (const d of (await destinations()) ?? []) {
          for (const state of DESTINATION_STATES) this.labels(d.name, state).set(d.state === state ? 1 : 0);
        }
      },
    }),
    authFailures: new Counter({
      name: `${PREFIX}auth_failures_total`,
      help: 'Partner authentications refused, by reason code (never by username).',
      labelNames: ['code'] as const,
      registers,
    }),
  };
}
