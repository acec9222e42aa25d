// Whether the in-process pipeline worker is alive: its loop records a heartbeat on every turn
// (src/pipeline/worker.ts, `lastBeatAt`); the storage thread forwards it with its stats message
// at most a second later (pipeline-stats.ts); /readyz fails when it has not moved for longer
// than the bound below.
import type { WorkerConfig } from '../core/config.js';

/**
 * How long a worker may go without a heartbeat before it counts as stuck:
 * max(60 s, 3 × WORKER_LEASE_MS, 3 × WORKER_POLL_MS). A healthy worker beats at least once per
 * batch and once per idle sleep; the longest sleep is WORKER_POLL_MS (≤ 60 s) or, after
 * database errors, a backoff of at most max(30 s, WORKER_POLL_MS), and a batch that runs past
 * its lease has lost its claims anyway. So the bound is never reached by a healthy, idle or
 * backing-off worker, only by one whose loop no longer turns.
 */
export function stuckAfterMs(worker: WorkerConfig): number {
  return Math.max(60_000, 3 * worker.leaseMs, 3 * worker.pollMs);
}

export class WorkerHeartbeat {
  /** The clock readiness is judged by (tests move it instead of sleeping). */
  now: () => number = Date.now;
  private beatAt = Date.now();
  private followed: { readonly lastBeatAt: number } | undefined;

  constructor(
    /** An in-process worker runs (WORKER_ENABLED); without one there is nothing to watch. */
    readonly enabled: boolean,
    readonly stuckAfterMs: number,
  ) {}

  /** A heartbeat forwarded from the storage thread. */
  beat(at: number): void {
    this.beatAt = at;
  }

  /** Reads the heartbeat of a worker on this thread (inline storage) directly. */
  follow(worker: { readonly lastBeatAt: number }): void {
    this.followed = worker;
  }

  get lastBeatAt(): number {
    return this.followed?.lastBeatAt ?? this.beatAt;
  }

  /** Milliseconds since the last heartbeat. */
  ageMs(): number {
    return Math.max(0, this.now() - this.lastBeatAt);
  }

  /** True when a worker should be running and its loop has not turned within the bound. */
  stuck(): boolean {
    return this.enabled && this.ageMs() > this.stuckAfterMs;
  }
}
