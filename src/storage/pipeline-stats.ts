// Counting in the storage thread. The pipeline worker and the group commit run there, but the
// counters live in the request thread's registry (the one /metrics reads). So the thread counts
// into plain maps, and at most once a second (and once more when it stops) posts what changed
// since its last message — `{ t: 'stats' }` in storage.protocol.ts — together with the worker's
// heartbeat. StorageThread (storage.ts) hands each message to PipelineMetrics (pipeline-metrics.ts).
// Nothing here imports prom-client: the thread stays as lean as it was.
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
    if (this.events.size === 0 && this.commits.size === 0 && workerBeatAt === this.sentBeatAt) return undefined;
    const events: [string, string, PipelineOutcome, number][] = [];
    for (const [subscriber, types] of this.events) {
      for (const [eventType, outcomes] of types) {
        for (const [outcome, count] of outcomes) events.push([subscriber, eventType, outcome, count]);
      }
    }
    const stats: PipelineStats = { events, commits: [...this.commits], workerBeatAt };
    this.events = new Map();
    this.commits = new Map();
    this.sentBeatAt = workerBeatAt;
    return stats;
  }
}
