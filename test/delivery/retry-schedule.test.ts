// The retry schedule: jittered delays, exhaustion into a dead letter, Retry-After, validation.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, nextAttemptDelayMs, retryAfterMs, validateSchedule } from '../../src/delivery/retry-schedule.js';

const fixed = (value: number) => () => value;

describe('nextAttemptDelayMs', () => {
  test('the default schedule: nine attempts, the first at once, about 51.6 hours in all', () => {
    assert.equal(DEFAULT_RETRY_SCHEDULE_SECONDS.length, 9);
    assert.equal(DEFAULT_RETRY_SCHEDULE_SECONDS[0], 0);
    assert.equal(
      DEFAULT_RETRY_SCHEDULE_SECONDS.reduce((sum, s) => sum + s, 0),
      185_705,
    );
    assert.equal(validateSchedule(DEFAULT_RETRY_SCHEDULE_SECONDS), undefined);
  });

  test('with no jitter (random 0.5), the delay is the schedule entry after the attempts made', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, n, fixed(0.5)));
    assert.deepEqual(delays, [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000, 86_400_000]);
  });

  test('jitter stays within ±20 %', () => {
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 2, fixed(0)), 240_000);
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 2, fixed(1)), 360_000);
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 2, fixed(0.75)), 330_000);
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 1, fixed(0.25)), 4_500);
    // A random source out of [0, 1) cannot push the delay past the bounds, nor below zero.
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 2, fixed(-5)), 240_000);
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 2, fixed(7)), 360_000);
    for (let i = 0; i < 1000; i++) {
      const delay = nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 8) as number;
      assert.ok(delay >= 69_120_000 && delay <= 103_680_000, String(delay));
    }
  });

  test('a zero delay stays zero', () => {
    for (const r of [0, 0.5, 0.999]) assert.equal(nextAttemptDelayMs([0, 0, 10], 1, fixed(r)), 0);
  });

  test('an exhausted schedule gives undefined: the message is a dead letter', () => {
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 9, fixed(0.5)), undefined);
    assert.equal(nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, 50, fixed(0.5)), undefined);
    assert.equal(nextAttemptDelayMs([0], 1, fixed(0.5)), undefined);
    assert.equal(nextAttemptDelayMs([0, 60], 1, fixed(0.5)), 60_000);
  });

  test('attemptsMade below 1 or fractional is a programming error', () => {
    for (const n of [0, -1, 1.5, Number.NaN])
      assert.throws(() => nextAttemptDelayMs(DEFAULT_RETRY_SCHEDULE_SECONDS, n), RangeError, String(n));
  });
});

describe('retryAfterMs', () => {
  const now = Date.UTC(2026, 0, 15, 12, 0, 0); // Thu, 15 Jan 2026 12:00:00 GMT

  test('delta-seconds', () => {
    assert.equal(retryAfterMs('120', now), 120_000);
    assert.equal(retryAfterMs(' 0 ', now), 0);
    assert.equal(retryAfterMs('3600', now), 3_600_000);
  });

  test('HTTP-date, in the three forms RFC 9110 requires', () => {
    assert.equal(retryAfterMs('Thu, 15 Jan 2026 12:05:00 GMT', now), 300_000);
    assert.equal(retryAfterMs('Thursday, 15-Jan-26 13:00:00 GMT', now), 3_600_000);
    assert.equal(retryAfterMs('Thu Jan 15 12:00:30 2026', now), 30_000);
    assert.equal(retryAfterMs('Fri Jan  2 12:00:00 2026', Date.UTC(2026, 0, 2, 11, 0, 0)), 3_600_000);
  });

  test('a date in the past means now', () => {
    assert.equal(retryAfterMs('Wed, 14 Jan 2026 12:00:00 GMT', now), 0);
    assert.equal(retryAfterMs('Sunday, 06-Nov-94 08:49:37 GMT', now), 0);
  });

  test('capped at 24 hours', () => {
    assert.equal(retryAfterMs('86400', now), 86_400_000);
    assert.equal(retryAfterMs('86401', now), 86_400_000);
    assert.equal(retryAfterMs('99999999999999999999999', now), 86_400_000);
    assert.equal(retryAfterMs('Sat, 17 Jan 2026 12:00:00 GMT', now), 86_400_000);
  });

  test('absent or invalid gives undefined', () => {
    for (const header of [
      undefined,
      '',
      '  ',
      '-5',
      '1.5',
      '+10',
      '10s',
      'soon',
      '2026-01-15T12:05:00Z',
      'Thu, 15 Jan 2026 12:05:00 UTC',
      'Thu, 15 Jan 2026 12:05:00',
      'Thu, 31 Feb 2026 12:05:00 GMT',
      'Thu, 15 Jan 2026 24:00:00 GMT',
      'Thu, 15 Foo 2026 12:05:00 GMT',
    ]) {
      assert.equal(retryAfterMs(header, now), undefined, JSON.stringify(header));
    }
  });
});

describe('validateSchedule', () => {
  test('accepts non-empty arrays of up to 20 integers from 0 to 604800', () => {
    for (const schedule of [[0], [0, 604_800], Array(20).fill(60)]) assert.equal(validateSchedule(schedule), undefined);
  });

  test('refuses anything else, saying why', () => {
    const cases: [unknown, RegExp][] = [
      [undefined, /must be an array/],
      ['0,5,300', /must be an array/],
      [{ 0: 0 }, /must be an array/],
      [[], /at least one entry/],
      [Array(21).fill(0), /at most 20 entries, not 21/],
      [[0, -1], /entry 1 \(-1\) must be an integer from 0 to 604800/],
      [[0, 1.5], /entry 1 \(1\.5\)/],
      [[604_801], /entry 0 \(604801\)/],
      [[0, '5'], /entry 1 \("5"\)/],
      [[0, null], /entry 1 \(null\)/],
      [[Number.NaN], /entry 0/],
    ];
    for (const [schedule, message] of cases) assert.match(validateSchedule(schedule) ?? '', message, JSON.stringify(schedule));
  });
});
