// The evaluation thread (assessor.ts): assesses batches of events with its own read connection
// and its own copy of the subscriber directory, refreshed before each batch — the same rule as
// the worker's: a fixed integration applies from the next batch.
import { parentPort, workerData } from 'node:worker_threads';
import { SubscriberDirectory } from '../auth/directory.js';
import { connect } from '../db/connect.js';
import type { EventRow } from '../db/schema.js';
import { toWire } from '../db/threads.js';
import type { AssessReply, AssessRequest, AssessThreadData, WireAssessment } from './assessor.js';
import { contextOf } from './assessor.js';
import { assessEvent } from './evaluate.js';

const port = parentPort;
if (!port) throw new Error('assess.thread.ts runs as a worker thread');
const db = connect((workerData as AssessThreadData).database, { poolSize: 2 });
const directory = new SubscriberDirectory(db.kysely);
const ctx = contextOf(db.kysely, directory);

// Batches are assessed one after another, in the order they arrive.
let queue: Promise<void> = Promise.resolve();
port.on('message', (request: AssessRequest) => {
  queue = queue.then(async () => {
    const results: WireAssessment[] = [];
    try {
      await directory.refresh();
    } catch (err) {
      // The database is unreachable: every event of the batch fails (and is retried).
      for (const _ of request.events) results.push({ ok: false, error: toWire(err) });
      port.postMessage({ id: request.id, results } satisfies AssessReply);
      return;
    }
    for (const event of request.events) {
      try {
        results.push({ ok: true, result: await assessEvent(ctx, event as EventRow) });
      } catch (err) {
        results.push({ ok: false, error: toWire(err) });
      }
    }
    port.postMessage({ id: request.id, results } satisfies AssessReply);
  });
});

await directory.refresh(true);
port.postMessage({ ready: true } satisfies AssessReply);
