// The benchmark's knobs, read once from the environment (see bench/run.ts for the list).
import type { Dialect } from '../src/db/connect.js';

export const SCENARIOS = ['gate', 'leads', 'drain', 'overload', 'delivery'] as const;
export type Scenario = (typeof SCENARIOS)[number];

function positive(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name}: expected a positive integer, got ${raw}`);
  return value;
}

function list<T extends string>(name: string, allowed: readonly T[]): T[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...allowed];
  const wanted = raw.split(',').map((s) => s.trim());
  for (const w of wanted) if (!allowed.includes(w as T)) throw new Error(`${name}: unknown ${w} (expected ${allowed.join(', ')})`);
  return wanted as T[];
}

export const settings = {
  seconds: positive('BENCH_SECONDS', 10),
  connections: positive('BENCH_CONNECTIONS', 50),
  overloadConnections: positive('BENCH_OVERLOAD_CONNECTIONS', 500),
  drainEvents: positive('BENCH_DRAIN_EVENTS', 200_000),
  deliveryMessages: positive('BENCH_DELIVERY_MESSAGES', 20_000),
  /** The gate's fixed rate for the delivery lag scenario, events per second. */
  lagRate: positive('BENCH_LAG_RATE', 1000),
  /** null: the worker's own default (WORKER_BATCH_SIZE unset). */
  workerBatchSize: process.env.BENCH_WORKER_BATCH_SIZE ? positive('BENCH_WORKER_BATCH_SIZE', 50) : null,
  dialects: list<Dialect>('BENCH_DIALECTS', ['sqlite', 'postgres']),
  scenarios: list<Scenario>('BENCH_SCENARIOS', SCENARIOS),
  gateDrainTimeoutS: 60,
  workerDrainTimeoutS: positive('BENCH_DRAIN_TIMEOUT_S', 1800),
};
