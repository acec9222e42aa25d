// The delivery loop's ordering and breaker, on both databases: a `per-dealer` destination gets
// each dealer's messages in the order they were written, however many attempts each takes (and,
// on PostgreSQL, however many senders share the outbox); `none` just gets everything; ten
// failures in a row open the breaker (nothing is sent until the probe), and a probe that succeeds
// closes it and the backlog drains.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HealthChange } from '../../src/delivery/delivery.repository.js';
import { testDialects } from '../helpers/databases.js';
import { waitFor } from '../helpers/suite.js';
import { BREAKER_THRESHOLD, DEALERS, type Harness, nOf, outbound, type Receiver, range, sleep, useHarness } from './receiver.js';

const POLL_MS = 50;
const PER_DEALER = 100;

/** A small seeded PRNG (mulberry32): the failures are random, and the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * Fails about 30 % of requests with 500, at random, but never more than 5 in a row: the
 * destination's breaker (10 in a row) stays closed, this is about ordering.
 */
function flaky(seed: number) {
  const random = prng(seed);
  let run = 0;
  return () => {
    const fail = run < 5 && random() < 0.3;
    run = fail ? run + 1 : 0;
    return { status: fail ? 500 : 204 };
  };
}

/** 3 dealers × 100 messages, in 10 transactions of 30 (the dealers interleaved). */
async function enqueueAll(h: Harness): Promise<void> {
  const all = range(DEALERS.length * PER_DEALER).map((i) => outbound(i));
  for (let i = 0; i < all.length; i += 30) await h.enqueue(all.slice(i, i + 30));
}

/**
 * Replays what the receiver saw, in order: every request of a dealer's message must be for its
 * oldest message not yet delivered (head of line, retries included), so the first successful
 * deliveries come in exactly the enqueue order. Returns the number of failed requests.
 */
function assertPerDealerOrder(rx: Receiver): number {
  const expected = DEALERS.map((_, d) => range(PER_DEALER).map((k) => k * DEALERS.length + d));
  const delivered = DEALERS.map(() => [] as number[]);
  const done = new Set<string>();
  let failures = 0;
  for (const r of rx.received) {
    const n = nOf(r.body);
    const dealer = n % DEALERS.length;
    const head = expected[dealer]?.[delivered[dealer]?.length ?? 0];
    assert.ok(!done.has(r.id), `message ${n} sent again after it was delivered`);
    assert.equal(n, head, `dealer ${dealer}: message ${n} was sent while ${head} was not delivered yet`);
    if (r.status === 204) {
      delivered[dealer]?.push(n);
      done.add(r.id);
    } else failures++;
  }
  assert.deepEqual(delivered, expected, 'first successful deliveries per dealer, in enqueue order');
  return failures;
}

for (const dialect of testDialects()) {
  describe(`delivery ordering and breaker [${dialect}]`, () => {
    const h = useHarness(dialect);
    const statuses = async (destination: string) => (await h.messages(destination)).map((m) => m.status);
    const allDelivered = (name: string) => async () => (await statuses(name)).every((s) => s === 'DELIVERED');
    const schedule = Array<number>(20).fill(0);

    test('per-dealer: each dealer’s messages arrive in enqueue order although 30 % of attempts fail', async () => {
      const rx = await h.receiver(flaky(1));
      await h.destination('ordered', rx.url(), { ordering: 'per-dealer', retrySchedule: schedule });
      h.start();
      await enqueueAll(h);
      await waitFor('all delivered', allDelivered('ordered'), 40_000);
      const failures = assertPerDealerOrder(rx);
      assert.ok(failures > 50, `${failures} failed requests: the retries were exercised`);
      const messages = await h.messages('ordered');
      assert.equal(messages.length, 300);
      assert.equal(
        messages.reduce((sum, m) => sum + m.attempts, 0),
        rx.received.length,
      );
    });

    test('ordering none: everything is delivered, each message once', async () => {
      const rx = await h.receiver(flaky(2));
      await h.destination('unordered', rx.url(), { ordering: 'none', retrySchedule: schedule });
      h.start();
      await enqueueAll(h);
      await waitFor('all delivered', allDelivered('unordered'), 40_000);
      const successes = rx.received.filter((r) => r.status === 204);
      assert.equal(successes.length, 300);
      assert.deepEqual(new Set(successes.map((r) => nOf(r.body))), new Set(range(300)));
      assert.ok(rx.received.length - successes.length > 50, 'the retries were exercised');
    });

    if (dialect === 'postgres') {
      test('per-dealer with two senders on two connections: the order still holds', async () => {
        const rx = await h.receiver(flaky(3));
        await h.destination('ordered-shared', rx.url(), { ordering: 'per-dealer', retrySchedule: schedule });
        const counts: [number, number] = [0, 0];
        h.start({ onRecorded: (recorded) => (counts[0] += recorded.length) });
        h.start({ db: h.tdb.connectAgain(), onRecorded: (recorded) => (counts[1] += recorded.length) });
        await enqueueAll(h);
        await waitFor('all delivered', allDelivered('ordered-shared'), 40_000);
        assertPerDealerOrder(rx);
        // Which sender sends what is not fixed: with three dealers there are three heads at a
        // time, and a sender that records an answer claims the next head in the same transaction,
        // so one of them may well take them all. The order must hold whoever sends.
        assert.equal(counts[0] + counts[1], rx.received.length, `attempts per sender: ${counts.join(', ')}`);
      });
    }

    test('breaker: 10 failures in a row open it, nothing is sent until the probe; a good probe closes it', async () => {
      const rx = await h.receiver(() => ({ status: 500 }));
      await h.destination('breaker', rx.url(), { retrySchedule: schedule });
      const changes: HealthChange[] = [];
      h.start({ onHealthChange: (change) => changes.push(change) });
      await h.enqueue(range(12).map((i) => outbound(i)));
      await waitFor('breaker open', async () => {
        const row = await h.destinationRow('breaker');
        return row.failure_streak >= BREAKER_THRESHOLD && (row.breaker_open_until ?? 0) > Date.now();
      });
      const opened = Date.now();
      await sleep(POLL_MS * 4); // sends claimed before it opened come back
      const row = await h.destinationRow('breaker');
      // Exactly the threshold: the attempts in flight when it opened came back and did not count.
      assert.equal(row.failure_streak, BREAKER_THRESHOLD);
      const probeIn = (row.breaker_open_until ?? 0) - opened;
      assert.ok(probeIn > 28_000 && probeIn <= 30_000, `the probe is due in ${probeIn} ms, not 30 s`);
      assert.deepEqual(
        changes.map((c) => c.change),
        ['breaker-opened'],
      );
      const seen = rx.received.length;
      await sleep(1000);
      assert.equal(rx.received.length, seen, 'nothing sent while the breaker is open');
      assert.ok((await statuses('breaker')).every((s) => s === 'PENDING'));
      const bringProbeForward = () =>
        h.tdb.db.kysely.updateTable('destinations').set({ breaker_open_until: Date.now() }).where('name', '=', 'breaker').execute();

      // The probe brought forward, still failing: one request, and the next probe waits twice as long.
      await bringProbeForward();
      await waitFor('a failed probe', async () => (await h.destinationRow('breaker')).failure_streak === row.failure_streak + 1);
      const probed = Date.now();
      const reopened = await h.destinationRow('breaker');
      const nextProbeIn = (reopened.breaker_open_until ?? 0) - probed;
      assert.ok(nextProbeIn > 58_000 && nextProbeIn <= 60_000, `the next probe is due in ${nextProbeIn} ms, not 60 s`);
      await sleep(POLL_MS * 4);
      assert.equal(rx.received.length, seen + 1, 'one probe');

      // Brought forward again, and the destination healthy: one message first (held 1 s:
      // nothing else goes meanwhile), then the backlog.
      rx.answer = () => ({ status: 204, ...(rx.received.length === seen + 2 ? { delayMs: 1000 } : {}) });
      await bringProbeForward();
      await waitFor('the probe', async () => rx.received.length > seen + 1);
      await sleep(400);
      assert.equal(rx.received.length, seen + 2, 'half-open: one probe at a time');
      await waitFor('the backlog drained', allDelivered('breaker'));
      const closed = await h.destinationRow('breaker');
      assert.equal(closed.failure_streak, 0);
      assert.equal(closed.breaker_open_until, null);
      assert.equal(closed.failing_since, null);
      assert.deepEqual(
        changes.map((c) => c.change),
        ['breaker-opened', 'breaker-closed'],
      );
    });
  });
}
