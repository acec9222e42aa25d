// Per-subscriber rate limits on the partner endpoints: a token bucket per subscriber
// (`rateLimit: { requestsPerSecond, burst }` in provisioning; none = unlimited).
//
// The hot path never touches the database: `take` is a map lookup and some arithmetic on this
// node's bucket. On SQLite (one node) that bucket is the whole story: it refills continuously
// at requestsPerSecond, up to burst.
//
// On PostgreSQL several nodes share the limit through one row per subscriber in `rate_limits`:
// the cluster's balance, refilled at requestsPerSecond up to burst on the database's clock (node
// clocks do not matter). A node does not refill its bucket itself. Every SYNC_MS (250 ms) it
// reconciles each bucket in use, in one statement: it hands back what its bucket still holds
// (negative: what it spent beyond its grant), and takes a new grant of up to `burst` from the
// balance — nothing when the subscriber was idle on this node. Tokens are debited from the
// balance when granted, so two nodes never spend the same token, and over time the cluster
// admits exactly the limit. A node's first request for a subscriber does not wait for a grant:
// the bucket starts full and owes that burst, debited at the first reconciliation. The error
// bound is in docs/architecture.md ("Rate limits"). If reconciliation fails for longer than a
// second (the database is unreachable), each node refills its own buckets meanwhile — the
// cluster may then admit up to nodes × limit — and what it spent of that is not charged later,
// so a partner is not locked out by debt once the database is back.
import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RateLimit } from './directory.js';

const SYNC_MS = 250;
/** Refill a shared balance may hold beyond the burst: two rounds (timers drift under load). */
const SHARED_HEADROOM_MS = 2 * SYNC_MS;
/** Without a successful reconciliation for this long, a node refills its buckets on its own. */
const FALLBACK_AFTER_MS = 1000;
/** Buckets idle (and reconciled) this long are forgotten: memory follows active subscribers. */
const IDLE_FORGET_MS = 60_000;

export interface RateDecision {
  readonly allowed: boolean;
  /** RateLimit-Limit: the burst (the most requests admitted at once). */
  readonly limit: number;
  /** RateLimit-Remaining: whole requests admitted right now. */
  readonly remaining: number;
  /** RateLimit-Reset: seconds until the bucket is full again. */
  readonly resetSeconds: number;
  /** Retry-After of a refused request: seconds until one request is admitted. */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  /** What this node may still admit (negative: spent beyond its grant, repaid from the next). */
  tokens: number;
  updatedAt: number;
  lastUsed: number;
  limit: RateLimit;
  /** Requests admitted, ever (shared mode: what was spent while a reconciliation ran). */
  admitted: number;
  /** Tokens taken without a grant (a new bucket's first burst), charged at the next reconciliation. */
  owed: number;
  /** Used since the last reconciliation: then it asks for a grant, else it only hands back. */
  active: boolean;
  /** Whether its `rate_limits` row is known to exist. */
  rowExists: boolean;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private lastSyncOk: number;

  /**
   * `shared`: the database whose `rate_limits` rows the nodes reconcile with (PostgreSQL); absent,
   * the limit is this process's alone (SQLite: one node).
   */
  constructor(
    private readonly now: () => number = Date.now,
    private readonly shared?: Kysely<Database>,
  ) {
    this.lastSyncOk = now();
  }

  /** Whether reconciliation is currently working; otherwise buckets refill locally. */
  private get local(): boolean {
    return this.shared === undefined || this.now() - this.lastSyncOk > FALLBACK_AFTER_MS;
  }

  /** Counts one request of `username` against `limit`. */
  take(username: string, limit: RateLimit): RateDecision {
    const now = this.now();
    let bucket = this.buckets.get(username);
    if (!bucket) {
      // A node's first request for a subscriber starts from a full burst (see the error bound).
      bucket = {
        tokens: limit.burst,
        updatedAt: now,
        lastUsed: now,
        limit,
        admitted: 0,
        owed: limit.burst,
        active: true,
        rowExists: false,
      };
      this.buckets.set(username, bucket);
    } else if (bucket.limit.burst !== limit.burst || bucket.limit.requestsPerSecond !== limit.requestsPerSecond) {
      // The limit changed (provisioning): keep what was spent, within the new burst.
      bucket.tokens = Math.min(bucket.tokens, limit.burst);
      bucket.limit = limit;
    }
    if (this.local) {
      bucket.tokens = Math.min(limit.burst, bucket.tokens + (Math.max(0, now - bucket.updatedAt) * limit.requestsPerSecond) / 1000);
    }
    bucket.updatedAt = now;
    bucket.lastUsed = now;
    bucket.active = true;
    const allowed = bucket.tokens >= 1;
    if (allowed) {
      bucket.tokens -= 1;
      bucket.admitted += 1;
    }
    const rate = limit.requestsPerSecond;
    return {
      allowed,
      limit: limit.burst,
      remaining: Math.min(limit.burst, Math.max(0, Math.floor(bucket.tokens))),
      resetSeconds: Math.max(0, Math.ceil((limit.burst - Math.min(limit.burst, bucket.tokens)) / rate)),
      retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / rate)),
    };
  }

  /** Starts reconciling with the shared rows every SYNC_MS (no-op without a shared database). */
  start(onError: (err: unknown) => void): void {
    if (this.shared === undefined || this.timer) return;
    this.timer = setInterval(() => {
      if (this.syncing) return;
      this.syncing = this.sync()
        .catch(onError)
        .finally(() => {
          this.syncing = undefined;
        });
    }, SYNC_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.syncing;
  }

  /** One reconciliation round: every bucket this node holds, against its row. */
  async sync(): Promise<void> {
    const db = this.shared;
    if (db === undefined) return;
    const now = this.now();
    const recovering = now - this.lastSyncOk > FALLBACK_AFTER_MS;
    for (const [username, bucket] of this.buckets) {
      // Locally refilled tokens (database unreachable) were never granted: not charged.
      if (recovering) bucket.owed = 0;
      const idle = !bucket.active;
      if (idle && bucket.tokens === 0 && bucket.owed === 0) {
        if (now - bucket.lastUsed > IDLE_FORGET_MS) this.buckets.delete(username);
        continue;
      }
      const { requestsPerSecond: rate, burst } = bucket.limit;
      // The balance is handed out once per round, not continuously: it must hold a round's refill
      // on top of the burst, or the cap would throw away refill whenever rate × round > burst.
      const capacity = burst + (rate * SHARED_HEADROOM_MS) / 1000;
      const handBack = Math.max(-capacity * 1000, bucket.tokens) - bucket.owed;
      const want = idle ? 0 : capacity;
      const admittedBefore = bucket.admitted;
      const wasActive = bucket.active;
      bucket.active = false;
      let grant: number;
      try {
        if (!bucket.rowExists) {
          await sql`INSERT INTO rate_limits (username, tokens, updated_at)
            VALUES (${username}, ${burst}, (extract(epoch from statement_timestamp()) * 1000)::bigint)
            ON CONFLICT (username) DO NOTHING`.execute(db);
          bucket.rowExists = true;
        }
        // The balance refilled since its last update, plus what this node hands back, less the
        // grant; the grant is computed from the same `available` the statement returns.
        const available = sql`LEAST(${capacity}::double precision,
          old.tokens + GREATEST(0, (extract(epoch from statement_timestamp()) * 1000)::bigint - old.updated_at) * ${rate}::double precision / 1000.0)
          + ${handBack}::double precision`;
        const result = await sql<{ available: number }>`
          UPDATE rate_limits r SET
            tokens = LEAST(${capacity}::double precision, ${available} - GREATEST(0, LEAST(${want}::double precision, ${available}))),
            updated_at = GREATEST(old.updated_at, (extract(epoch from statement_timestamp()) * 1000)::bigint)
          FROM (SELECT username, tokens, updated_at FROM rate_limits WHERE username = ${username} FOR UPDATE) old
          WHERE r.username = old.username
          RETURNING ${available} AS available`.execute(db);
        const row = result.rows[0];
        if (row === undefined) {
          // The row vanished (a test truncated it): create it next round.
          bucket.rowExists = false;
          bucket.active = bucket.active || wasActive;
          continue;
        }
        grant = Math.max(0, Math.min(want, Number(row.available)));
      } catch (err) {
        bucket.active = bucket.active || wasActive;
        throw err;
      }
      // Handed back: everything held at the start. What was admitted meanwhile comes out of the grant.
      bucket.owed = 0;
      bucket.tokens = grant - (bucket.admitted - admittedBefore);
      bucket.updatedAt = this.now();
    }
    this.lastSyncOk = this.now();
  }
}
