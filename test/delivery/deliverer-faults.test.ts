// The delivery loop when the other side misbehaves or goes away, on both databases: an answer
// that never comes (or never ends) is a timeout, a dropped connection a reset, both retried;
// private and loopback destinations are refused before any connection unless allowed; a deleted
// destination takes its messages with it, even in flight; stop() gives back what is in flight.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { describe, test } from 'node:test';
import { claimMessages, releaseLeases } from '../../src/delivery/delivery.repository.js';
import { testDialects } from '../helpers/databases.js';
import { waitFor } from '../helpers/suite.js';
import { nOf, outbound, range, sleep, useHarness } from './receiver.js';

const POLL_MS = 50;

for (const dialect of testDialects()) {
  describe(`delivery faults [${dialect}]`, () => {
    const h = useHarness(dialect);

    test('a lease given back unused is only that lease: a message leased again since keeps its new lease and count', async () => {
      await h.destination('lease-back', 'http://127.0.0.1:9/in');
      await h.enqueue([outbound(1)]);
      const db = h.tdb.db.kysely;
      const claim = (now: number) =>
        claimMessages(db, h.dialect, { workerId: 'w-1', now, limit: 1, leaseMs: 100, inFlight: new Map(), perDestination: 16 });
      const [first] = await claim(Date.now());
      assert.ok(first);
      // The first lease ran out while the message waited; the same sender leased it again.
      const [again] = await claim((first.message.locked_until ?? 0) + 1);
      assert.equal(again?.message.attempts, 2);
      await releaseLeases(db, 'w-1', [{ id: first.message.id, lockedUntil: first.message.locked_until ?? 0 }]);
      const [kept] = await h.messages('lease-back');
      assert.deepEqual([kept?.locked_by, kept?.locked_until, kept?.attempts], ['w-1', again?.message.locked_until, 2]);
      await releaseLeases(db, 'w-1', [{ id: again?.message.id ?? '', lockedUntil: again?.message.locked_until ?? 0 }]);
      const [released] = await h.messages('lease-back');
      assert.deepEqual([released?.locked_by, released?.locked_until, released?.attempts], [null, null, 1]);
    });
    const statuses = async (destination: string) => (await h.messages(destination)).map((m) => m.status);

    test('no answer within DELIVERY_TIMEOUT_MS: a timeout, retried; a body that never ends is one too', async () => {
      const rx = await h.receiver((req) => {
        if (req.path === '/hooks/trickle') return req.n === 1 ? 'trickle' : { status: 204 };
        return req.n <= 2 ? 'hang' : { status: 204 };
      });
      await h.destination('silent', rx.url());
      await h.destination('trickle', rx.url('/hooks/trickle'));
      h.start({ config: h.config({ DELIVERY_TIMEOUT_MS: '300' }) });
      await h.enqueue([outbound(1)]);
      await waitFor('delivered', async () =>
        [...(await statuses('silent')), ...(await statuses('trickle'))].every((s) => s === 'DELIVERED'),
      );

      const timeout = 'timeout: no complete answer within 300 ms';
      const silent = await h.attempts('silent');
      assert.deepEqual(
        silent.map((a) => [a.attempt, a.status_code, a.error]),
        [
          [1, null, timeout],
          [2, null, timeout],
          [3, 204, null],
        ],
      );
      for (const a of silent.slice(0, 2)) assert.ok(a.duration_ms >= 290 && a.duration_ms < 2000, `${a.duration_ms} ms`);
      // Headers and a 200 came, the body did not finish: not a delivery.
      const trickle = await h.attempts('trickle');
      assert.deepEqual(
        trickle.map((a) => [a.attempt, a.status_code, a.error]),
        [
          [1, null, timeout],
          [2, 204, null],
        ],
      );
      const [message] = await h.messages('silent');
      assert.equal(message?.attempts, 3);
      const mine = rx.received.filter((r) => r.path === '/hooks/in');
      assert.equal(mine.length, 3);
      assert.deepEqual(new Set(mine.map((r) => r.id)), new Set([message?.id]));
    });

    test('the receiver drops the connection: "connection reset", retried', async () => {
      const rx = await h.receiver((req) => (req.n === 1 ? 'destroy' : req.n === 2 ? 'rst' : { status: 204 }));
      await h.destination('reset', rx.url());
      h.start();
      await h.enqueue(range(3).map((i) => outbound(i)));
      await waitFor('delivered', async () => (await statuses('reset')).every((s) => s === 'DELIVERED'));
      const messages = await h.messages('reset');
      const attempts = await h.attempts('reset');
      for (const m of messages) {
        assert.equal(m.attempts, 3);
        assert.deepEqual(
          attempts.filter((a) => a.message_id === m.id).map((a) => [a.attempt, a.status_code, a.error]),
          [
            [1, null, 'connection reset'],
            [2, null, 'connection reset'],
            [3, 204, null],
          ],
        );
      }
      assert.equal(rx.received.length, 9);
    });

    test('SSRF: loopback destinations are refused before connecting unless allowed', async (t) => {
      const rx = await h.receiver(undefined, '::'); // both 127.0.0.1 and ::1 reach it
      const urls: Record<string, string> = {
        'ssrf-name': rx.url('/', 'localhost'),
        'ssrf-v4': rx.url('/', '127.0.0.1'),
        'ssrf-v6': rx.url('/', '[::1]'),
      };
      // A name that is not "localhost" but resolves to loopback is refused at connect time (after DNS).
      const host = hostname();
      const resolved = await lookup(host).catch(() => undefined);
      const dnsCase = resolved !== undefined && /^(127\.|::1$)/.test(resolved.address);
      if (dnsCase) urls['ssrf-dns'] = rx.url('/', host);
      else t.diagnostic(`skipping the DNS case: ${host} resolves to ${resolved?.address}`);
      for (const [name, url] of Object.entries(urls)) await h.destination(name, url, { retrySchedule: [0] });
      const refusing = h.start({ config: h.config({ DELIVERY_ALLOW_PRIVATE_NETWORKS: '' }) });
      await h.enqueue([outbound(1)]);
      const names = Object.keys(urls);
      await waitFor('all refused', async () => {
        for (const name of names) if ((await statuses(name))[0] !== 'FAILED') return false;
        return true;
      });
      const expected: Record<string, string> = {
        'ssrf-name': 'refused: localhost is a loopback name',
        'ssrf-v4': 'refused: 127.0.0.1 is a loopback address',
        'ssrf-v6': 'refused: ::1 is a loopback address',
        'ssrf-dns': `refused: Destination ${host} resolves to ${resolved?.address}: ${resolved?.address} is a loopback address`,
      };
      for (const name of names) {
        const [message] = await h.messages(name);
        assert.equal(message?.last_error, expected[name], name);
        const attempts = await h.attempts(name);
        assert.equal(attempts.length, 1);
        assert.equal(attempts[0]?.status_code, null);
        assert.match(attempts[0]?.error ?? '', /^refused: /);
      }
      await sleep(POLL_MS * 2);
      assert.equal(rx.received.length, 0, 'nothing reached the receiver');
      await refusing.stop();

      // The same receiver at the same URLs, with loopback allowed: every message arrives (the
      // refusals above were the guard, not an unreachable receiver).
      for (const name of names) await h.tdb.db.kysely.deleteFrom('destinations').where('name', '=', name).execute();
      for (const [name, url] of Object.entries(urls)) await h.destination(`${name}-allowed`, url, { retrySchedule: [0] });
      h.start({ config: h.config({ DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8,::1' }) });
      await h.enqueue([outbound(2)]);
      await waitFor('all delivered', async () => {
        for (const name of names) if ((await statuses(`${name}-allowed`))[0] !== 'DELIVERED') return false;
        return true;
      });
      assert.equal(rx.received.length, names.length);
    });

    test('deleting a destination deletes its messages and their attempts, also while they are in flight', async () => {
      const rx = await h.receiver((req) => (req.path === '/hooks/in' ? { status: 204 } : { status: 204, delayMs: 300 }));
      await h.destination('doomed', rx.url());
      h.start();
      await h.enqueue(range(3).map((i) => outbound(i)));
      await waitFor('delivered', async () => (await statuses('doomed')).every((s) => s === 'DELIVERED'));
      const ids = (await h.messages('doomed')).map((m) => m.id);
      assert.equal((await h.tdb.db.kysely.selectFrom('delivery_attempts').select('id').where('message_id', 'in', ids).execute()).length, 3);
      await h.tdb.db.kysely.deleteFrom('destinations').where('name', '=', 'doomed').execute();
      assert.equal((await h.tdb.db.kysely.selectFrom('outbox_messages').select('id').where('id', 'in', ids).execute()).length, 0);
      assert.equal((await h.tdb.db.kysely.selectFrom('delivery_attempts').select('id').where('message_id', 'in', ids).execute()).length, 0);

      // Deleted while its sends are out; another destination's answers come in the same batch.
      await h.destination('doomed-live', rx.url('/hooks/slow'));
      await h.destination('bystander', rx.url('/hooks/slow?bystander'));
      await h.enqueue(range(3, 10).map((i) => outbound(i)));
      await waitFor('all in flight', async () => rx.received.filter((r) => r.path.startsWith('/hooks/slow')).length === 6);
      const doomed = (await h.messages('doomed-live')).map((m) => m.id);
      await h.tdb.db.kysely.deleteFrom('destinations').where('name', '=', 'doomed-live').execute();
      await waitFor('the bystander delivered', async () => (await statuses('bystander')).every((s) => s === 'DELIVERED'), 5000);
      assert.equal((await h.tdb.db.kysely.selectFrom('outbox_messages').select('id').where('id', 'in', doomed).execute()).length, 0);
      assert.equal(
        (await h.tdb.db.kysely.selectFrom('delivery_attempts').select('id').where('message_id', 'in', doomed).execute()).length,
        0,
      );
      assert.deepEqual(
        (await h.attempts('bystander')).map((a) => a.status_code),
        [204, 204, 204],
      );
    });

    test('stop() lets sends in flight finish for a moment: answered ones are recorded, not sent again', async () => {
      const rx = await h.receiver(() => ({ status: 204, delayMs: 300 }));
      await h.destination('stopping-soon', rx.url());
      const deliverer = h.start();
      await h.enqueue(range(3).map((i) => outbound(i)));
      await waitFor('all in flight', async () => rx.received.length === 3);
      await deliverer.stop();
      assert.deepEqual(await statuses('stopping-soon'), ['DELIVERED', 'DELIVERED', 'DELIVERED']);
    });

    test('stop() gives back the sends still in flight after its grace (3 s), attempts not counted', async () => {
      const rx = await h.receiver(() => ({ status: 204, delayMs: 6000 }));
      await h.destination('stopping', rx.url());
      const deliverer = h.start();
      await h.enqueue(range(4).map((i) => outbound(i)));
      await waitFor('all in flight', async () => rx.received.length === 4);
      const started = performance.now();
      await deliverer.stop();
      const took = performance.now() - started;
      assert.ok(took >= 2500 && took < 4500, `stop() took ${Math.round(took)} ms`);
      const messages = await h.messages('stopping');
      assert.equal(messages.length, 4);
      for (const m of messages) {
        assert.equal(m.status, 'PENDING');
        assert.equal(m.locked_by, null);
        assert.equal(m.locked_until, null);
        assert.equal(m.attempts, 0);
      }
      assert.equal((await h.attempts('stopping')).length, 0, 'no attempt logged');

      // Given back, not leased: another sender takes them at once (no lease to wait out).
      rx.answer = () => ({ status: 204 });
      h.start();
      await waitFor('delivered by the next sender', async () => (await statuses('stopping')).every((s) => s === 'DELIVERED'), 3000);
      assert.ok((await h.messages('stopping')).every((m) => m.attempts === 1));
      assert.deepEqual(new Set(rx.received.slice(4).map((r) => nOf(r.body))), new Set(range(4)));
    });
  });
}
