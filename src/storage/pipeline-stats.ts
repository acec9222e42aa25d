// Counting in the storage thread. The pipeline worker and the group commit run there, but the
// counters live in the request thread's registry (the one /metrics reads). So the thread counts
// into plain maps, and at most once a second (and once more when it stops) posts what changed
// since its last message — `{ t: 'stats' }` in storage.protocol.ts — together with the worker's
// heartbeat. StorageThread (storage.ts) hands each message to PipelineMetrics (pipeline-metrics.ts).
// Nothing here imports prom-client: the thread stays as lean as it was.
import type { HealthChange, RecordedAttempt } from '../delivery/delivery.repository.js';
import { drainCreated } from '../outbox/outbox.write.js';
import type { EventTally } from '../pipeline/worker.js';
import type { BatchStats } from './group-commit.js';

export type PipelineOutcome = EventTally['outcome'];

/** How often the storage thread posts its stats (when something changed). */
export const STATS_INTERVAL_MS = 1000;

export interface PipelineStats {
  /** Events finished since the last message: [subscriber, event type, outcome, count]. */
  readonly events: readonly (readonly [string, string, PipelineOutcome, number])[];
  /** Commits since the last message by the request writes they carried: [writes, commits]. */
  readonly commits: readonly (readonly [number, number])[];
  /** The worker's last heartbeat (epoch ms); null when this thread runs no worker. */
  readonly workerBeatAt: number | null;
  /** The sender's counts since the last message. */
  readonly delivery: DeliveryStats;
}

/** What the sender did: counted where it runs, applied to the registry by PipelineMetrics. */
export interface DeliveryStats {
  /** Messages written to the outbox: [destination, type, count]. */
  readonly created: readonly (readonly [string, string, number])[];
  /** Attempts by what they led to: [destination, type, outcome, count]. */
  readonly attempts: readonly (readonly [string, string, RecordedAttempt['outcome'], number])[];
  /** Each attempt's duration: [destination, seconds]. */
  readonly durations: readonly (readonly [string, number])[];
  /** Each delivered message's lag from its outcome's commit to the 2xx, in seconds. */
  readonly lags: readonly number[];
  /** Health changes: [destination, change]. */
  readonly health: readonly (readonly [string, HealthChange['change']])[];
}

/** Turns recorded attempts into DeliveryStats parts (also used inline, without a tally). */
export function deliveryStatsOf(
  recorded: readonly RecordedAttempt[],
  now: number,
): { attempts: DeliveryStats['attempts']; durations: [string, number][]; lags: number[] } {
  const counts = new Map<string, number>();
  const durations: [string, number][] = [];
  const lags: number[] = [];
  for (const { record, outcome } of recorded) {
    const key = `${record.message.destination}\u0000${record.message.event_type}\u0000${outcome}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    durations.push([record.message.destination, record.durationMs / 1000]);
    if (outcome === 'delivered') lags.push(Math.max(0, (now - record.message.created_at) / 1000));
  }
  const attempts = [...counts].map(([key, n]) => {
    const [destination = '', type = '', outcome = 'retry'] = key.split('\u0000');
    return [destination, type, outcome as RecordedAttempt['outcome'], n] as const;
  });
  return { attempts, durations, lags };
}

/** Request writes in a commit: events and lead saves (worker tasks riding along are not requests). */
export function writesOf(batch: BatchStats): number {
  return batch.events + batch.leads;
}

export class PipelineTally {
  /** subscriber → event type → outcome → count since the last take(). */
  private events = new Map<string, Map<string, Map<PipelineOutcome, number>>>();
  /** writes per commit → commits since the last take(). */
  private commits = new Map<number, number>();
  private sentBeatAt: number | null = null;
  private delivery = { attempts: new Map<string, number>(), durations: [] as [string, number][], lags: [] as number[] };
  private health: [string, HealthChange['change']][] = [];

  /** The sender's `onRecorded`. */
  countDelivery(recorded: readonly RecordedAttempt[]): void {
    const { attempts, durations, lags } = deliveryStatsOf(recorded, Date.now());
    for (const [destination, type, outcome, n] of attempts) {
      const key = `${destination}\u0000${type}\u0000${outcome}`;
      this.delivery.attempts.set(key, (this.delivery.attempts.get(key) ?? 0) + n);
    }
    // Bounded: a second of a fast sender is a few thousand observations at most.
    if (this.delivery.durations.length < 50_000) this.delivery.durations.push(...durations);
    if (this.delivery.lags.length < 50_000) this.delivery.lags.push(...lags);
  }

  /** The sender's `onHealthChange`. */
  countHealth(change: HealthChange): void {
    this.health.push([change.destination, change.change]);
  }

  /** The worker's `onBatch`. */
  countEvents(tallies: readonly EventTally[]): void {
    for (const { event, outcome } of tallies) {
      let types = this.events.get(event.username);
      if (types === undefined) {
        types = new Map();
        this.events.set(event.username, types);
      }
      let outcomes = types.get(event.event_type);
      if (outcomes === undefined) {
        outcomes = new Map();
        types.set(event.event_type, outcomes);
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
  }

  /** The group commit's `onCommitted`. */
  countCommit(batch: BatchStats): void {
    const writes = writesOf(batch);
    if (writes > 0) this.commits.set(writes, (this.commits.get(writes) ?? 0) + 1);
  }

  /** What changed since the last call, or undefined when nothing did (no message to send). */
  take(workerBeatAt: number | null): PipelineStats | undefined {
    const created = drainCreated();
    const quiet = this.delivery.attempts.size === 0 && this.health.length === 0 && created.length === 0;
    if (this.events.size === 0 && this.commits.size === 0 && workerBeatAt === this.sentBeatAt && quiet) return undefined;
    const events: [string, string, PipelineOutcome, number][] = [];
    for (const [subscriber, types] of this.events) {
      for (const [eventType, outcomes] of types) {
        for (const [outcome, count] of outcomes) events.push([subscriber, eventType, outcome, count]);
      }
    }
    const attempts = [...this.delivery.attempts].map(([key, n]) => {
      const [destination = '', type = '', outcome = 'retry'] = key.split('\u0000');
      return [destination, type, outcome as RecordedAttempt['outcome'], n] as const;
    });
    const delivery: DeliveryStats = {
      created,
      attempts,
      durations: this.delivery.durations,
      lags: this.delivery.lags,
      health: this.health,
    };
    const stats: PipelineStats = { events, commits: [...this.commits], workerBeatAt, delivery };
    this.delivery = { attempts: new Map(), durations: [], lags: [] };
    this.health = [];
    this.events = new Map();
    this.commits = new Map();
    this.sentBeatAt = workerBeatAt;
    return stats;
  }
}
