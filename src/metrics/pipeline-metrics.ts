// The pipeline's counters on the request thread: fed by the storage thread's stats messages
// (`apply`), or — inline storage, where the worker and the group commit run on this thread —
// directly by the worker's `onBatch` and the group commit's `onCommitted`. Both paths update the
// same counters.
import type { HealthChange, RecordedAttempt } from '../delivery/delivery.repository.js';
import { drainCreated } from '../outbox/outbox.write.js';
import type { BatchReport, EventTally } from '../pipeline/worker.js';
import type { BatchStats } from '../storage/group-commit.js';
import { type DeliveryStats, deliveryStatsOf, type PipelineOutcome, type PipelineStats, writesOf } from '../storage/pipeline-stats.js';
import type { WorkerHeartbeat } from './heartbeat.js';
import { Children } from './labels.js';
import type { MetricSet } from './metrics.js';

/** Label values in Prometheus style. */
const OUTCOME_LABEL: Readonly<Record<PipelineOutcome, string>> = {
  processed: 'processed',
  rejected: 'rejected',
  retried: 'retried',
  failed: 'failed',
  leaseLost: 'lease_lost',
};

export class PipelineMetrics {
  /** subscriber → event type → outcome → counter child. */
  private readonly events: Children<string, Children<string, Children<PipelineOutcome, { inc(n?: number): void }>>>;

  constructor(
    private readonly metrics: MetricSet,
    private readonly heartbeat: WorkerHeartbeat,
  ) {
    this.events = new Children(
      (subscriber) =>
        new Children(
          (eventType) => new Children((outcome) => metrics.pipelineEvents.labels(subscriber, eventType, OUTCOME_LABEL[outcome])),
        ),
    );
  }

  /** A stats message from the storage thread. */
  readonly apply = (stats: PipelineStats): void => {
    for (const [subscriber, eventType, outcome, count] of stats.events) this.events.get(subscriber).get(eventType).get(outcome).inc(count);
    for (const [writes, commits] of stats.commits) {
      for (let i = 0; i < commits; i++) this.metrics.commitBatchSize.observe(writes);
    }
    if (stats.workerBeatAt !== null) this.heartbeat.beat(stats.workerBeatAt);
    this.applyDelivery(stats.delivery);
  };

  private applyDelivery(delivery: Partial<DeliveryStats>): void {
    const m = this.metrics;
    for (const [destination, type, n] of delivery.created ?? []) m.deliveryCreated.labels(destination, type).inc(n);
    for (const [destination, type, outcome, n] of delivery.attempts ?? []) m.deliveryAttempts.labels(destination, type, outcome).inc(n);
    for (const [destination, seconds] of delivery.durations ?? []) m.deliveryAttemptDuration.labels(destination).observe(seconds);
    for (const seconds of delivery.lags ?? []) m.deliveryLag.observe(seconds);
    for (const [destination, change] of delivery.health ?? []) m.deliveryHealthChanges.labels(destination, change).inc();
  }

  /** Inline: the sender's `onRecorded`. */
  readonly countDelivery = (recorded: readonly RecordedAttempt[]): void => {
    this.applyDelivery(deliveryStatsOf(recorded, Date.now()));
  };

  /** Inline: the sender's `onHealthChange`. */
  readonly countHealth = (change: HealthChange): void => {
    this.applyDelivery({ health: [[change.destination, change.change]] });
  };

  /** Inline: the worker's `onBatch`. */
  readonly countBatch = (_report: BatchReport, tallies: readonly EventTally[]): void => {
    for (const { event, outcome } of tallies) this.events.get(event.username).get(event.event_type).get(outcome).inc();
  };

  /** Inline: the group commit's `onCommitted`. */
  readonly countCommit = (batch: BatchStats): void => {
    const writes = writesOf(batch);
    if (writes > 0) this.metrics.commitBatchSize.observe(writes);
    this.applyDelivery({ created: drainCreated() });
  };
}
