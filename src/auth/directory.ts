// The subscriber directory: an in-memory snapshot of subscribers, their grants and their
// integrations, reloaded whenever `apply` bumps provisioning_state.revision. Requests never read
// these tables: the hot path costs one map lookup, and a running service sees a change within
// one poll interval (500 ms by default), credentials included.
import { createHmac, randomBytes } from 'node:crypto';
import type { Kysely, Selectable } from 'kysely';
import { type AuthThrottleConfig, loadConfig } from '../core/config.js';
import { AppError } from '../core/errors.js';
import type { Database, IntegrationsTable } from '../db/schema.js';
import type { Credentials } from './basic-auth.js';
import { FailureThrottle } from './failure-throttle.js';
import { Limiter } from './limiter.js';
import { DECOY_HASH_PROMISE, verifyPassword } from './password.js';
import { ANY_DEALER, type Scope } from './scopes.js';

export interface Integration {
  readonly eventType: string;
  readonly active: boolean;
  readonly dealerIdField: string;
  readonly dealerMap: Readonly<Record<string, string>>;
  readonly schema: object | null;
  readonly transform: string | null;
  readonly updatedAt: number;
}

export interface RateLimit {
  readonly requestsPerSecond: number;
  readonly burst: number;
}

export interface Principal {
  readonly username: string;
  /** Requests per second and burst on the partner endpoints; null = unlimited. */
  readonly rateLimit: RateLimit | null;
  /** scope → dealer UUIDs, or the single entry ANY_DEALER for a MultiDealer grant. */
  readonly grants: ReadonlyMap<string, ReadonlySet<string>>;
  readonly integrations: ReadonlyMap<string, Integration>;
}

interface SubscriberEntry extends Principal {
  readonly passwordHash: string;
  /** The hash before the last rotation, accepted until previousValidUntil (epoch ms). */
  readonly previousHash: string | null;
  readonly previousValidUntil: number;
  readonly disabled: boolean;
}

/** The hashes that sign `entry` in at `now`: the current one, and the previous one during its overlap. */
function liveHashes(entry: SubscriberEntry | undefined, now: number): readonly string[] {
  if (!entry || entry.disabled) return [];
  return entry.previousHash !== null && entry.previousValidUntil > now ? [entry.passwordHash, entry.previousHash] : [entry.passwordHash];
}

interface Snapshot {
  readonly revision: number;
  readonly subscribers: ReadonlyMap<string, SubscriberEntry>;
  readonly dealers: ReadonlySet<string>;
}

const MAX_CACHED_CREDENTIALS = 10_000;
const REJECTION_MEMORY_MS = 60_000;
/** How long an address that signed in as a subscriber stays exempt from that username's lockout. */
const KNOWN_ADDRESS_MS = 24 * 60 * 60_000;

function integrationFromRow(row: Selectable<IntegrationsTable>): Integration {
  return {
    eventType: row.event_type,
    active: row.active === 1,
    dealerIdField: row.dealer_id_field,
    dealerMap: JSON.parse(row.dealer_map) as Record<string, string>,
    schema: row.json_schema === null ? null : (JSON.parse(row.json_schema) as object),
    transform: row.transform,
    updatedAt: row.updated_at,
  };
}

export function hasScope(principal: Principal, scope: Scope, dealerUuid: string): boolean {
  const dealers = principal.grants.get(scope);
  return dealers !== undefined && (dealers.has(ANY_DEALER) || dealers.has(dealerUuid));
}

export function holdsScopeAnywhere(principal: Principal, scope: Scope): boolean {
  return (principal.grants.get(scope)?.size ?? 0) > 0;
}

export class SubscriberDirectory {
  private snapshot: Snapshot = { revision: -1, subscribers: new Map(), dealers: new Set() };
  private timer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> = Promise.resolve();
  // Verified credentials, keyed by a keyed hash of username+password (never the password itself)
  // and remembering which stored hash they matched: a password change invalidates them.
  private readonly verified = new Map<string, string>();
  // Recently rejected credentials, with the stored hash they failed against ('' for no such
  // subscriber): a partner retrying with a wrong password in a loop costs one scrypt per minute,
  // not one per request. A password change or a new subscriber invalidates the entry.
  private readonly rejected = new Map<string, { readonly hash: string; readonly until: number }>();
  private readonly cacheKeySecret = randomBytes(32);
  // libuv runs 4 scrypt computations at once; 64 more may wait (~0.7 s), then callers get 429.
  // One client address holds at most 2 of those places: a flood from one address is refused at
  // once instead of queueing in front of everyone (500 wrong passwords at concurrency 100 used to
  // make a partner's first request answer 429 every time).
  private readonly scryptLimiter = new Limiter(4, 64, 2);
  private readonly usernameFailures: FailureThrottle;
  private readonly addressFailures: FailureThrottle;
  // username + address pairs that authenticated recently: such an address is not locked out by
  // someone else's failures on its username.
  private readonly knownAddresses = new Map<string, number>();
  // Checks in progress, by credential and stored hash (see authenticate).
  private readonly checking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly db: Kysely<Database>,
    throttle: AuthThrottleConfig = loadConfig({}).authThrottle,
    /** The clock (epoch ms); tests move it to cross a password's overlap window. */
    private readonly now: () => number = Date.now,
  ) {
    this.usernameFailures = new FailureThrottle(throttle.maxFailuresPerUsername, throttle.windowMs);
    this.addressFailures = new FailureThrottle(throttle.maxFailuresPerAddress, throttle.windowMs);
  }

  get revision(): number {
    return this.snapshot.revision;
  }

  /** Whether a dealer UUID exists, as of the last provisioning revision seen. */
  isKnownDealer(dealerUuid: string): boolean {
    return this.snapshot.dealers.has(dealerUuid);
  }

  /** The subscriber's current integration for an event type, from the latest snapshot. */
  integrationOf(username: string, eventType: string): Integration | undefined {
    return this.snapshot.subscribers.get(username)?.integrations.get(eventType);
  }

  principalOf(username: string): Principal | undefined {
    return this.snapshot.subscribers.get(username);
  }

  /** Polls for provisioning changes. Errors keep the last good snapshot (the DB may be down). */
  start(pollMs: number, onError: (err: unknown) => void): void {
    this.timer = setInterval(() => {
      this.refresh().catch(onError);
    }, pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reloads the snapshot if the provisioning revision moved (or `force`). */
  refresh(force = false): Promise<void> {
    // Calls run one after another, each starting its own read: a caller that arrives while a
    // reload is in flight must not settle for a revision read before its own change committed.
    const next = this.refreshing.then(() => this.reload(force));
    this.refreshing = next.catch(() => {});
    return next;
  }

  private async readRevision(): Promise<number> {
    const row = await this.db.selectFrom('provisioning_state').select('revision').where('id', '=', 1).executeTakeFirst();
    return row?.revision ?? 0;
  }

  private async reload(force: boolean): Promise<void> {
    for (;;) {
      const revision = await this.readRevision();
      if (!force && revision === this.snapshot.revision) return;
      const [subscribers, grants, integrationRows, dealers] = await Promise.all([
        this.db.selectFrom('subscribers').selectAll().execute(),
        this.db.selectFrom('grants').selectAll().execute(),
        this.db.selectFrom('integrations').selectAll().execute(),
        this.db.selectFrom('dealers').select('uuid').execute(),
      ]);
      // Reads are not in one transaction; if an apply landed meanwhile, read again.
      if ((await this.readRevision()) !== revision) continue;
      const grantsBySubscriber = new Map<string, Map<string, Set<string>>>();
      for (const g of grants) {
        const byScope = grantsBySubscriber.get(g.username) ?? new Map<string, Set<string>>();
        grantsBySubscriber.set(g.username, byScope);
        const dealers = byScope.get(g.scope) ?? new Set<string>();
        byScope.set(g.scope, dealers);
        dealers.add(g.dealer_uuid);
      }
      const integrations = new Map<string, Map<string, Integration>>();
      for (const row of integrationRows) {
        const byType = integrations.get(row.username) ?? new Map<string, Integration>();
        integrations.set(row.username, byType);
        byType.set(row.event_type, integrationFromRow(row));
      }
      const entries = new Map<string, SubscriberEntry>();
      for (const s of subscribers) {
        entries.set(s.username, {
          username: s.username,
          passwordHash: s.password_hash,
          previousHash: s.previous_password_hash,
          previousValidUntil: s.previous_valid_until ?? 0,
          rateLimit: s.rate_limit === null ? null : (JSON.parse(s.rate_limit) as RateLimit),
          disabled: s.disabled === 1,
          grants: grantsBySubscriber.get(s.username) ?? new Map(),
          integrations: integrations.get(s.username) ?? new Map(),
        });
      }
      this.snapshot = { revision, subscribers: entries, dealers: new Set(dealers.map((d) => d.uuid)) };
      return;
    }
  }

  /**
   * Unknown user, wrong password and disabled subscriber all fail the same way, after the same
   * amount of scrypt work, so a caller cannot tell which usernames exist. Lockouts (429) depend
   * only on counts of failures, never on whether the username exists. `address` is the client's.
   */
  async authenticate(credentials: Credentials, address = ''): Promise<Principal> {
    const entry = this.snapshot.subscribers.get(credentials.username);
    const cacheKey = createHmac('sha256', this.cacheKeySecret)
      .update(credentials.username)
      .update('\0')
      .update(credentials.password)
      .digest('base64');
    const now = this.now();
    // The hashes that sign in right now: a previous password past its overlap is not among them,
    // so a cached verification of it no longer counts either.
    const hashes = liveHashes(entry, now);
    // A credential verified before is never throttled: a partner that is signed in stays so,
    // whatever anyone else sends.
    const matched = this.verified.get(cacheKey);
    if (entry && matched !== undefined && hashes.includes(matched)) return entry;
    const storedHash = hashes.join('\0');
    const wrong = () => new AppError('WRONG_CREDENTIAL', 'Invalid username or password');
    // The same wrong credential again is not a new guess: refused as before, costing nothing.
    const recent = this.rejected.get(cacheKey);
    if (recent && recent.hash === storedHash && recent.until > now) throw wrong();

    const pairKey = `${credentials.username}\0${address}`;
    const knownAddress = (this.knownAddresses.get(pairKey) ?? 0) > now;
    const waitMs = Math.max(
      this.addressFailures.blockedFor(address, now),
      knownAddress ? 0 : this.usernameFailures.blockedFor(credentials.username, now),
    );
    if (waitMs > 0) {
      throw new AppError('TOO_MANY_REQUESTS', 'Too many failed authentications; retry later', Math.ceil(waitMs / 1000));
    }

    // Concurrent requests with the same credential share one check: a partner opening 50
    // connections at once after a restart costs one scrypt, not 50 (nor 48 × 429 from the
    // per-address bound). The first caller does the bookkeeping for all of them.
    const key = `${cacheKey}\0${storedHash}`;
    let check = this.checking.get(key);
    if (!check) {
      check = this.check(credentials, hashes, cacheKey, address, pairKey, entry).finally(() => this.checking.delete(key));
      this.checking.set(key, check);
    }
    if (!(await check) || !entry) throw wrong();
    return entry;
  }

  private async check(
    credentials: Credentials,
    hashes: readonly string[],
    cacheKey: string,
    address: string,
    pairKey: string,
    entry: SubscriberEntry | undefined,
  ): Promise<boolean> {
    const decoy = await DECOY_HASH_PROMISE;
    // Unknown users are checked against a decoy, so they cost the same scrypt work as a real one.
    const candidates = hashes.length > 0 ? hashes : [decoy];
    let matched: string | undefined;
    for (const hash of candidates) {
      if (await this.scryptLimiter.run(() => verifyPassword(credentials.password, hash), address)) {
        matched = hash;
        break;
      }
    }
    const ok = matched !== undefined && hashes.length > 0;
    const now = this.now();
    if (!ok || !entry || entry.disabled) {
      if (this.rejected.size >= MAX_CACHED_CREDENTIALS) this.rejected.clear();
      this.rejected.set(cacheKey, { hash: hashes.join('\0'), until: now + REJECTION_MEMORY_MS });
      this.usernameFailures.fail(credentials.username, now);
      this.addressFailures.fail(address, now);
      return false;
    }
    if (this.verified.size >= MAX_CACHED_CREDENTIALS) this.verified.clear();
    this.verified.set(cacheKey, matched as string);
    if (this.knownAddresses.size >= MAX_CACHED_CREDENTIALS) this.knownAddresses.clear();
    this.knownAddresses.set(pairKey, now + KNOWN_ADDRESS_MS);
    return true;
  }
}
