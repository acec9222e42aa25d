// The storage thread: owns the service's write connection. It runs the group commit for the
// event gate and lead saves, and — unless WORKER_ENABLED=false — the pipeline worker. The
// request thread only parses, authenticates and checks; it never waits on an fsync, never runs
// a JSONata transform, and so keeps answering while a batch is flushed (docs/architecture.md,
// "The write path"). On SQLite this is also the single writer: gate batches, claims and
// outcomes go through one connection, in turn, with no SQLITE_BUSY between them.
import { parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { SubscriberDirectory } from '../auth/directory.js';
import { loggerOptions } from '../core/logger.js';
import { VERSION } from '../core/version.js';
import { connect, type Transact } from '../db/connect.js';
import { toWire } from '../db/threads.js';
import { Deliverer } from '../delivery/deliverer.js';
import { ThreadAssessor } from '../pipeline/assessor.js';
import { Worker } from '../pipeline/worker.js';
import { GroupCommitter, queuedEvents } from './group-commit.js';
import { PipelineTally, STATS_INTERVAL_MS } from './pipeline-stats.js';
import { searchIndexerFor } from './search-index.js';
import type { Reply, Request, StorageThreadData } from './storage.protocol.js';

const port = parentPort;
if (!port) throw new Error('storage.thread.ts runs as a worker thread');
const data = workerData as StorageThreadData;
const log = pino(loggerOptions(data.logLevel)).child({ thread: 'storage' });
const db = connect(data.database, { log });
const send = (reply: Reply) => port.postMessage(reply);

let worker: Worker | undefined;
let deliverer: Deliverer | undefined;
// Group-commit figures, logged at debug every 10 s while there is traffic: batch count, mean
// size and mean commit time tell whether the write path is the bottleneck.
const stats = { batches: 0, jobs: 0, ms: 0 };
setInterval(() => {
  if (stats.batches === 0) return;
  const { batches, jobs, ms } = stats;
  log.debug({ batches, jobs, meanBatch: jobs / batches, meanCommitMs: ms / batches }, 'group commit, last 10 s');
  Object.assign(stats, { batches: 0, jobs: 0, ms: 0 });
}, 10_000).unref();

// Metrics: counted here, posted to the request thread's registry at most once a second.
const tally = new PipelineTally();
const shipStats = () => {
  const counts = tally.take(worker?.lastBeatAt ?? null);
  if (counts) send({ t: 'stats', stats: counts });
};
setInterval(shipStats, STATS_INTERVAL_MS).unref();

const committer = new GroupCommitter({
  db,
  // SQLite: events go to the in-process worker straight from the gate's commit, already leased
  // (no claim statement, no second read of their bodies). PostgreSQL keeps claims: several
  // processes share its queue, and its batches commit in parallel.
  handOff:
    db.dialect === 'sqlite' ? { lease: (count) => worker?.leaseForHandOff(count), onLeased: (rows) => worker?.handOff(rows) } : undefined,
  onCommitted: (batch) => {
    tally.countCommit(batch);
    stats.batches++;
    stats.jobs += batch.events + batch.leads;
    stats.ms += batch.ms;
    indexer.stored(batch.events);
    // Events stored by the gate or replayed: the worker has work now, not at its next poll.
    if (queuedEvents(batch)) worker?.wake();
    // Outcomes or lead saves that owe destinations messages: the sender has work now.
    deliverer?.wakeIfEnqueued();
  },
});
// Bodies are tokenized for search here, when the gate is quiet (search-index.ts).
const indexer = searchIndexerFor(db, committer, log);

const settle = (id: number, work: Promise<unknown>) =>
  work.then(
    (value) => send({ t: 'done', id, value }),
    (error: unknown) => send({ t: 'fail', id, error: toWire(error) }),
  );

async function stop(): Promise<void> {
  await worker?.stop();
  await deliverer?.stop();
  await indexer.stop();
  await committer.drain();
  await db.close();
  shipStats();
  send({ t: 'stopped' });
  port?.close();
}

port.on('message', (request: Request) => {
  switch (request.t) {
    case 'event':
      settle(request.id, committer.storeEvent(request.row));
      break;
    case 'lead':
      settle(request.id, committer.saveLead(request.plan));
      break;
    case 'replay':
      settle(request.id, committer.replayEvents(request.filter, request.now, request.actor));
      break;
    case 'stop':
      stop().catch((err: unknown) => {
        log.error({ err }, 'storage thread could not stop cleanly');
        process.exit(1);
      });
      break;
  }
});

// On SQLite the worker's claims and outcomes, and the sender's claims and attempt records, ride
// in the gate's batches: the one writer then commits once per cycle instead of once per kind of
// work. On PostgreSQL batches commit in parallel on their own connections, and a gate batch
// carrying a 250-event outcome would only wait longer.
const transact: Transact | undefined = db.dialect === 'sqlite' ? (work, options) => committer.transact(work, options) : undefined;

if (data.worker) {
  const directory = new SubscriberDirectory(db.kysely);
  await directory.refresh(true);
  // Off by default here: the request thread and this one already keep both cores of a small
  // machine busy under load, and a third isolate measured slower (6 000–6 300 vs 6 600–6 700
  // req/s at the gate, docs/performance.md) and 40 MB bigger.
  const assessor = data.worker.evaluationThread === true ? await ThreadAssessor.start({ database: data.database }, log) : undefined;
  worker = new Worker({
    db,
    directory,
    log,
    config: data.worker,
    assessor,
    transact,
    onBatch: (_report, events) => {
      tally.countEvents(events);
      deliverer?.wakeIfEnqueued();
    },
  });
  worker.start();
}
if (data.delivery) {
  deliverer = new Deliverer({
    db,
    config: data.delivery,
    log,
    userAgent: `dealer-gateway/${VERSION}`,
    transact,
    onRecorded: (recorded) => tally.countDelivery(recorded),
    onHealthChange: (change) => tally.countHealth(change),
  });
  deliverer.start();
}
send({ t: 'ready' });
