import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Limiter } from '../../src/auth/limiter.js';
import { AppError } from '../../src/core/errors.js';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

test('runs at most maxActive at once, queues maxWaiting, refuses the rest with 429', async () => {
  const limiter = new Limiter(1, 1);
  const gate = deferred();
  let running = 0;
  let peak = 0;
  const work = async () => {
    running++;
    peak = Math.max(peak, running);
    await gate.promise;
    running--;
    return 'done';
  };
  const first = limiter.run(work);
  const second = limiter.run(work);
  await assert.rejects(
    limiter.run(work),
    (err: unknown) => err instanceof AppError && err.code === 'TOO_MANY_REQUESTS' && err.statusCode === 429,
  );
  gate.resolve();
  assert.deepEqual(await Promise.all([first, second]), ['done', 'done']);
  assert.equal(peak, 1);
  // Slots are given back: new work runs again.
  assert.equal(await limiter.run(async () => 'again'), 'again');
});

test('a failing task frees its slot', async () => {
  const limiter = new Limiter(1, 0);
  await assert.rejects(
    limiter.run(async () => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await limiter.run(async () => 'ok'), 'ok');
});
