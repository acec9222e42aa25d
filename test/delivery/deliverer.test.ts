// The delivery loop against a real receiver (an HTTP server in this process), on both databases:
// every message arrives, signed (checked with the independent `standardwebhooks` package);
// failures are retried on the destination's schedule, with the same webhook-id, until it runs
// out (a dead letter); 410 disables the destination; 429 honours Retry-After; a 3xx is a failure
// and is not followed; what an answer said is kept, its body cut at 16 KB.
// Faults (timeouts, resets, SSRF, stop): deliverer-faults.test.ts; ordering and the breaker:
// deliverer-ordering.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { updateDestination } from '../../src/outbox/destination.repository.js';
import { testDialects } from '../helpers/databases.js';
import { waitFor } from '../helpers/suite.js';
import { nOf, outbound, range, sleep, useHarness } from './receiver.js';

const POLL_MS = 50;

for (const dialect of testDialects()) {
  describe(`delivery loop [${dialect}]`, () => {
    const h = useHarness(dialect);
    const statuses = async (destination: string) => (await h.messages(destination)).map((m) => m.status);

    test('every message arrives once, signed; the signature verifies with standardwebhooks', async () => {
      const rx = await h.receiver();
      const destination = await h.destination('all', rx.url('/hooks/in?tenant=a'));
      const deliverer = h.start();
      await h.enqueue(range(300).map((i) => outbound(i)));
      deliverer.wake();
      await waitFor('all delivered', async () => (await statuses('all')).every((s) => s === 'DELIVERED'));
      assert.equal(rx.received.length, 300);
      assert.ok(rx.received.every((r) => r.path === '/hooks/in?tenant=a'));
      assert.equal(new Set(rx.received.map((r) => r.id)).size, 300, 'each message once, each with its own webhook-id');
      assert.deepEqual(new Set(rx.received.map((r) => nOf(r.body))), new Set(range(300)));
      const verifier = new Webhook(destination.secret);
      for (const r of rx.received) {
        const verified = verifier.verify(r.body, {
          'webhook-id': String(r.headers['webhook-id']),
          'webhook-timestamp': String(r.headers['webhook-timestamp']),
          'webhook-signature': String(r.headers['webhook-signature']),
        }) as { type: string; timestamp: string; data: { requestId: string } };
        assert.equal(verified.type, 'chat_summary.processed');
        assert.match(verified.timestamp, /^\d{4}-\d{2}-\d{2}T/);
        assert.equal(r.headers['content-type'], 'application/json');
        assert.equal(r.headers['user-agent'], 'dealer-gateway/test');
      }
      const attempts = await h.attempts('all');
      assert.equal(attempts.length, 300);
      assert.ok(attempts.every((a) => a.status_code === 204 && a.error === null && a.attempt === 1));
    });

    test('500 twice then 204: delivered on the third attempt, every attempt logged, the same webhook-id each time', async () => {
      const rx = await h.receiver((req) => ({ status: req.n <= 2 ? 500 : 204 }));
      await h.destination('retry-ok', rx.url(), { retrySchedule: [0, 0, 0, 0, 0] });
      h.start();
      // Four messages, eight failures: under the breaker's ten in a row, however the answers
      // interleave (with six, a slow machine recorded ten failures before any success).
      await h.enqueue(range(4).map((i) => outbound(i)));
      await waitFor('all delivered', async () => (await statuses('retry-ok')).every((s) => s === 'DELIVERED'));
      const messages = await h.messages('retry-ok');
      assert.equal(messages.length, 4);
      const attempts = await h.attempts('retry-ok');
      for (const m of messages) {
        assert.equal(m.status, 'DELIVERED');
        assert.equal(m.attempts, 3);
        assert.equal(m.last_error, null);
        assert.ok(m.delivered_at !== null);
        assert.equal(m.locked_by, null);
        const log = attempts.filter((a) => a.message_id === m.id);
        assert.deepEqual(
          log.map((a) => [a.attempt, a.status_code, a.error]),
          [
            [1, 500, null],
            [2, 500, null],
            [3, 204, null],
          ],
        );
        // What the receiver saw of this message: three requests, all with the message's id.
        const mine = rx.received.filter((r) => nOf(r.body) === nOf(m.payload));
        assert.equal(mine.length, 3);
        assert.deepEqual(new Set(mine.map((r) => r.id)), new Set([m.id]));
        assert.ok(
          mine.every((r) => r.body === m.payload),
          'the same bytes on every attempt',
        );
      }
      assert.equal(rx.received.length, 12);
    });

    test('the schedule runs out: FAILED after its attempts, last_error kept, the message stays (dead letter)', async () => {
      const rx = await h.receiver(() => ({ status: 500 }));
      await h.destination('dead', rx.url(), { retrySchedule: [0, 0, 0] });
      h.start();
      // Three messages of three attempts: nine failures, under the breaker's ten.
      await h.enqueue(range(3).map((i) => outbound(i)));
      await waitFor('all failed', async () => (await statuses('dead')).every((s) => s === 'FAILED'));
      await sleep(POLL_MS * 5);
      const messages = await h.messages('dead');
      assert.equal(messages.length, 3, 'dead letters stay in the outbox');
      for (const m of messages) {
        assert.equal(m.status, 'FAILED');
        assert.equal(m.attempts, 3);
        assert.equal(m.last_error, 'HTTP 500');
        assert.equal(m.delivered_at, null);
        assert.equal(m.locked_by, null);
        assert.equal(m.locked_until, null);
      }
      assert.equal(rx.received.length, 9, 'three attempts each, none after the last');
      const attempts = await h.attempts('dead');
      assert.equal(attempts.length, 9);
      assert.ok(attempts.every((a) => a.status_code === 500));
    });

    test('410 Gone disables the destination; its messages wait, nothing is sent until it is enabled again', async () => {
      const rx = await h.receiver(() => ({ status: 410 }));
      const destination = await h.destination('gone', rx.url());
      h.start();
      await h.enqueue(range(5).map((i) => outbound(i)));
      await waitFor('disabled', async () => (await h.destinationRow('gone')).enabled === 0);
      const row = await h.destinationRow('gone');
      assert.match(row.disabled_reason ?? '', /410/);
      await sleep(POLL_MS * 2); // attempts claimed before the 410 was recorded finish
      const seen = rx.received.length;
      assert.ok(seen >= 1 && seen <= 5, `${seen} requests`);
      await sleep(POLL_MS * 8);
      assert.equal(rx.received.length, seen, 'nothing sent while disabled');
      const messages = await h.messages('gone');
      assert.ok(messages.every((m) => m.status === 'PENDING' && m.locked_by === null));
      assert.ok(messages.some((m) => m.last_error === 'HTTP 410'));
      const attempts = await h.attempts('gone');
      assert.equal(attempts.length, seen, 'every request logged');
      assert.ok(attempts.every((a) => a.status_code === 410));
      assert.equal(
        messages.reduce((sum, m) => sum + m.attempts, 0),
        seen,
        'attempts counted once each',
      );

      // Enabled again (a fresh start): the waiting messages go out.
      rx.answer = () => ({ status: 204 });
      await updateDestination(h.tdb.db.kysely, row, { ...destination, enabled: true }, Date.now());
      await waitFor('delivered after enabling', async () => (await statuses('gone')).every((s) => s === 'DELIVERED'));
      const after = await h.destinationRow('gone');
      assert.equal(after.enabled, 1);
      assert.equal(after.disabled_reason, null);
      assert.equal(after.failure_streak, 0);
    });

    test('429 with Retry-After: 2 postpones the next attempt by 2 s although the schedule says 0', async () => {
      const rx = await h.receiver((req) => (req.n === 1 ? { status: 429, headers: { 'retry-after': '2' } } : { status: 204 }));
      await h.destination('slow-down', rx.url(), { retrySchedule: [0, 0, 0] });
      h.start();
      await h.enqueue([outbound(1)]);
      await waitFor('first attempt recorded', async () => (await h.attempts('slow-down')).length === 1);
      const [first] = await h.attempts('slow-down');
      const [waiting] = await h.messages('slow-down');
      assert.equal(first?.status_code, 429);
      assert.equal(waiting?.status, 'PENDING');
      assert.equal(waiting?.last_error, 'HTTP 429');
      const wait = (waiting?.next_attempt_at ?? 0) - (first?.at ?? 0);
      assert.ok(wait >= 2000 && wait < 3000, `next attempt ${wait} ms after the first`);
      await waitFor('delivered', async () => (await statuses('slow-down'))[0] === 'DELIVERED');
      const [done] = await h.messages('slow-down');
      assert.equal(done?.attempts, 2);
      assert.deepEqual(
        (await h.attempts('slow-down')).map((a) => a.status_code),
        [429, 204],
      );
      assert.equal(rx.received.length, 2);
      const gap = (rx.received[1]?.at ?? 0) - (rx.received[0]?.at ?? 0);
      assert.ok(gap >= 1900, `the second request came ${gap} ms after the first`);
    });

    test('a 3xx is a failure and is not followed', async () => {
      const redirects = [301, 302, 303, 307, 308];
      const rx = await h.receiver((req) => {
        if (req.path !== '/hooks/in') return { status: 204 };
        const status = redirects[req.n - 1];
        return status === undefined ? { status: 204 } : { status, headers: { location: rx.url('/hooks/moved') } };
      });
      await h.destination('moved', rx.url(), { retrySchedule: [0, 0, 0, 0, 0, 0] });
      h.start();
      await h.enqueue([outbound(1)]);
      await waitFor('delivered', async () => (await statuses('moved'))[0] === 'DELIVERED');
      const attempts = await h.attempts('moved');
      assert.deepEqual(
        attempts.map((a) => a.status_code),
        [...redirects, 204],
      );
      assert.ok(attempts.slice(0, -1).every((a) => JSON.parse(a.response_headers ?? '{}').location === rx.url('/hooks/moved')));
      const [message] = await h.messages('moved');
      assert.equal(message?.attempts, 6);
      assert.equal(rx.received.filter((r) => r.path === '/hooks/moved').length, 0, 'the Location is never requested');
      assert.equal(rx.received.length, 6);
    });

    test('a 3xx as the last attempt leaves a dead letter with last_error HTTP 302', async () => {
      const rx = await h.receiver((req) =>
        req.path === '/hooks/in' ? { status: 302, headers: { location: rx.url('/hooks/moved') } } : { status: 204 },
      );
      await h.destination('moved-dead', rx.url(), { retrySchedule: [0] });
      h.start();
      await h.enqueue([outbound(1)]);
      await waitFor('failed', async () => (await statuses('moved-dead'))[0] === 'FAILED');
      const [message] = await h.messages('moved-dead');
      assert.equal(message?.last_error, 'HTTP 302');
      assert.equal(message?.attempts, 1);
      assert.deepEqual(
        rx.received.map((r) => r.path),
        ['/hooks/in'],
      );
    });

    test('the answer is kept: status, headers, at most 16 KB of its body', async () => {
      const ascii = 'abcdefghij'.repeat(10 * 1024); // 100 KB
      const euros = '€'.repeat(34 * 1024); // 3 bytes each: 102 KB, and 16 KB is not a whole number of them
      const bodies: Record<number, string | Buffer> = {
        1: ascii,
        2: euros,
        3: Buffer.concat([Buffer.from('{"ok":true}'), Buffer.alloc(4, 0), Buffer.from([0xff, 0xfe]), Buffer.from('end')]),
        4: Buffer.alloc(2 * 1024 * 1024, 'x'), // beyond what a sender reads at all (1 MB)
      };
      const rx = await h.receiver((req) => {
        const n = nOf(req.body);
        return { status: 200, headers: { 'x-receiver': `kept-${n}`, 'content-type': 'text/plain' }, body: bodies[n] ?? '' };
      });
      await h.destination('answers', rx.url());
      h.start();
      await h.enqueue([1, 2, 3, 4].map((i) => outbound(i)));
      await waitFor('all delivered', async () => (await statuses('answers')).every((s) => s === 'DELIVERED'));
      const messages = await h.messages('answers');
      const attempts = await h.attempts('answers');
      assert.equal(attempts.length, 4, 'one attempt each: 200 with any body is a delivery');
      const byN = new Map(attempts.map((a) => [nOf(messages.find((m) => m.id === a.message_id)?.payload ?? '{}'), a]));
      for (const [n, a] of byN) {
        assert.equal(a.status_code, 200);
        assert.ok(
          Buffer.byteLength(a.response_body ?? '', 'utf8') <= 16 * 1024,
          `body ${n}: ${Buffer.byteLength(a.response_body ?? '')} bytes`,
        );
        const headers = JSON.parse(a.response_headers ?? '{}') as Record<string, string>;
        assert.equal(headers['x-receiver'], `kept-${n}`);
        assert.equal(headers['content-type'], 'text/plain');
      }
      assert.equal(byN.get(1)?.response_body, ascii.slice(0, 16 * 1024));
      assert.equal(byN.get(2)?.response_body, '€'.repeat(Math.floor((16 * 1024) / 3)), 'cut at a character boundary');
      // NUL (which PostgreSQL's text cannot hold) and invalid bytes: U+FFFD, the rest as it was.
      assert.equal(byN.get(3)?.response_body, `{"ok":true}${'\uFFFD'.repeat(6)}end`);
      assert.equal(byN.get(4)?.response_body, 'x'.repeat(16 * 1024));
    });
  });
}
