// Event requestIds: UUIDv7, unique, and ordered by issue time (so the events index appends).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuidv7 as newRequestId } from '../../src/core/uuidv7.js';
import { UUID_V7 } from '../helpers/events.js';

test('a requestId is a UUIDv7 carrying the millisecond it was issued', () => {
  const now = Date.UTC(2026, 10, 23, 12, 0, 0, 123);
  const id = newRequestId(now);
  assert.match(id, UUID_V7);
  assert.equal(Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16), now);
});

test('ids issued in one process are unique and strictly increasing, within a millisecond too', () => {
  const ids = Array.from({ length: 20_000 }, () => newRequestId());
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok((ids[i - 1] as string) < (ids[i] as string), `${ids[i - 1]} < ${ids[i]}`);
  const sameMs = Array.from({ length: 5000 }, () => newRequestId(1_800_000_000_000));
  assert.equal(new Set(sameMs).size, sameMs.length);
  for (let i = 1; i < sameMs.length; i++) assert.ok((sameMs[i - 1] as string) < (sameMs[i] as string));
});

test('a clock that steps back does not make ids go backwards', () => {
  const later = newRequestId(2_000_000_000_000);
  const earlier = newRequestId(1_900_000_000_000);
  assert.ok(earlier > later);
  assert.match(earlier, UUID_V7);
});
