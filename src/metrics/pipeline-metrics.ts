// The pipeline's counters on the request thread: fed by the storage thread's stats messages
// (`apply`), or — inline storage, where the worker and the group commit run on this thread —
// directly by the worker's `onBatch` and the group commit's `onCommitted`. Both paths update the
// same counters.
import type { BatchReport, EventTally } from '../pipeline/worker.js';
import type { BatchStats } from '../storage/group-commit.js';
import { type PipelineOutcome, type PipelineStats, writesOf } from '../storage/pipeline-stats.js';
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
  };

  /** Inline: the worker's `onBatch`. */
  readonly countBatch = (_report: BatchReport, tallies: readonly EventTally[]): void => {
    for (const { event, outcome } of tallies) this.events.get(event.username).get(event.event_type).get(outcome).inc();
  };

  /** Inline: the group commit's `onCommitted`. */
  readonly countCommit = (batch: BatchStats): void => {
    const writes = writesOf(batch);
    if (writes > 0) this.metrics.commitBatchSize.observe(writes);
  };
}
