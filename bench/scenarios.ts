// The scenarios of one database: each service scenario runs a fresh process on an emptied events
// table, and only one server is under load at a time. Every scenario adds a row; one that fails
// adds a FAILED row and the others still run.
import { loadConfig } from '../src/core/config.js';
import type { Dialect } from '../src/db/connect.js';
import { createTestDatabase, type TestDatabase } from '../test/helpers/databases.js';
import { countByStatus, preloadEvents, resetEvents, waitUntilDrained } from './drain.js';
import { BENCH_AUTH, GATE_PATH, LEADS_PATH } from './fixture.js';
import { type LoadResult, runLoad } from './load.js';
import { httpStatus, isAborted } from './processes.js';
import type { ProcessFigures, Row } from './report.js';
import { settings } from './settings.js';
import { startBaseline, startReference, startService, startWorker, type Target } from './targets.js';

const progress = (text: string) => process.stdout.write(`  ${text}\n`);

export type BodyFiles = { readonly gate: string; readonly leads: string };

export class DialectBench {
  readonly rows: Row[] = [];
  readonly processes: ProcessFigures[] = [];

  constructor(
    protected readonly dialect: Dialect,
    protected readonly scratch: TestDatabase,
    protected readonly bodies: BodyFiles,
  ) {}

  protected get db() {
    return this.scratch.db.kysely;
  }

  /** `rate`: requests per second in all (bench/paced.ts, evenly spaced); else as fast as answers come. */
  protected load(
    target: Target,
    route: 'gate' | 'leads',
    connections = settings.connections,
    countStatuses = false,
    rate?: number,
  ): Promise<LoadResult> {
    return runLoad({
      rate,
      port: target.port,
      path: route === 'gate' ? GATE_PATH : LEADS_PATH,
      bodiesFile: this.bodies[route],
      authorization: BENCH_AUTH,
      connections,
      seconds: settings.seconds,
      countStatuses,
    });
  }

  protected row(scenario: string, route: Row['route'], target: Target, load: LoadResult, peakMb: number, note = '', details = {}): void {
    this.rows.push({
      scenario,
      dialect: this.dialect,
      route,
      unit: 'req/s',
      rate: load.perSecond,
      p50Ms: load.p50Ms,
      p99Ms: load.p99Ms,
      maxMs: load.maxMs,
      ratio: null,
      referenceRatio: null,
      non2xx: load.non2xx,
      idleRssMb: target.idleMb,
      peakRssMb: peakMb,
      note: [load.socketErrors > 0 ? `${load.socketErrors} socket errors` : '', note].filter(Boolean).join('; '),
      details: { load, ...details },
    });
  }

  /** A row with no latency figures (a failure, or the drain, which has a rate only). */
  protected emptyRow(scenario: string, unit: Row['unit']): Row {
    return {
      scenario,
      dialect: this.dialect,
      route: null,
      unit,
      rate: null,
      p50Ms: null,
      p99Ms: null,
      maxMs: null,
      ratio: null,
      referenceRatio: null,
      non2xx: null,
      idleRssMb: null,
      peakRssMb: null,
      note: '',
      details: {},
    };
  }

  protected failed(scenario: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(`${this.dialect} ${scenario} failed: ${message}\n`);
    this.rows.push({
      ...this.emptyRow(scenario, 'req/s'),
      note: `FAILED: ${message.split('\n')[0]}`,
      details: { error: message },
    });
  }

  /** Starts a target, runs `body`, stops it and records its memory figures, whatever happens. */
  protected async with(start: () => Promise<Target>, label: string, body: (t: Target) => Promise<void>): Promise<void> {
    try {
      const target = await start();
      try {
        await body(target);
      } finally {
        const { peakMb, hwmMb } = await target.stop();
        this.processes.push({ name: label, idleMb: target.idleMb, peakMb, hwmMb });
      }
    } catch (err) {
      if (isAborted()) throw err;
      this.failed(label, err);
    }
  }

  /** A fresh service process (default configuration plus `env`) on an emptied events table. */
  protected service(label: string, env: Record<string, string> = {}): () => Promise<Target> {
    return async () => {
      await resetEvents(this.db, this.dialect);
      return startService(label, this.scratch.url, env);
    };
  }

  async baseline(routes: ('gate' | 'leads')[]): Promise<void> {
    await this.with(startBaseline, 'baseline', async (target) => {
      for (const route of routes) {
        progress(`baseline ${route}`);
        target.rss.startWindow();
        const load = await this.load(target, route);
        this.row(`baseline ${route}`, route, target, load, target.rss.windowPeakMb());
      }
    });
  }

  /**
   * The near-limit durable reference (bench/reference.ts) on the gate route, on a scratch
   * database of its own: the gate's rows are read as a fraction of it (×reference).
   */
  async reference(): Promise<void> {
    const scratch = await createTestDatabase(this.dialect, {}, { migrate: false });
    try {
      const start = () => startReference(scratch.url.replace(/^sqlite:/, ''), BENCH_AUTH);
      await this.with(start, 'reference', async (target) => {
        progress('reference gate (durable, forty lines)');
        target.rss.startWindow();
        const load = await this.load(target, 'gate');
        this.row('reference gate', 'gate', target, load, target.rss.windowPeakMb());
      });
    } finally {
      await scratch.destroy();
    }
  }

  async gateDefault(): Promise<void> {
    progress('service gate, default configuration');
    await this.with(this.service('service gate'), 'service gate', async (target) => {
      target.rss.startWindow();
      const load = await this.load(target, 'gate');
      // The acknowledged events are only RECEIVED; the in-process worker catches up from here.
      const drain = await waitUntilDrained(this.db, settings.gateDrainTimeoutS * 1000);
      const statuses = await countByStatus(this.db);
      const note = drain.drained
        ? `drained ${drain.seconds.toFixed(1)} s after load stopped`
        : `NOT drained ${settings.gateDrainTimeoutS} s after load stopped (${drain.leftAtEnd} RECEIVED)`;
      this.row('service gate', 'gate', target, load, target.rss.windowPeakMb(), note, { drain, statuses });
    });
  }

  async gateWorkerOff(): Promise<void> {
    progress('service gate, WORKER_ENABLED=false');
    await this.with(this.service('service gate worker off', { WORKER_ENABLED: 'false' }), 'service gate worker off', async (target) => {
      target.rss.startWindow();
      const load = await this.load(target, 'gate');
      this.row('service gate (worker off)', 'gate', target, load, target.rss.windowPeakMb());
    });
  }

  async leads(): Promise<void> {
    progress('service leads, default configuration');
    await this.with(this.service('service leads'), 'service leads', async (target) => {
      target.rss.startWindow();
      const load = await this.load(target, 'leads');
      this.row('service leads', 'leads', target, load, target.rss.windowPeakMb());
    });
  }

  async overload(): Promise<void> {
    progress(`service gate overload, ${settings.overloadConnections} connections`);
    await this.with(this.service('service overload'), 'service overload', async (target) => {
      target.rss.startWindow();
      const load = await this.load(target, 'gate', settings.overloadConnections, true);
      const peakMb = target.rss.windowPeakMb();
      const readyz = await httpStatus(target.port, '/readyz', 5000);
      const statuses = Object.entries(load.statuses ?? {})
        .map(([status, n]) => `${status}×${n}`)
        .join(' ');
      const note = `${statuses}; max ${load.maxMs.toFixed(0)} ms; /readyz ${readyz || 'no answer'} after`;
      this.row(`service gate overload (${settings.overloadConnections} conn)`, 'gate', target, load, peakMb, note, { readyzAfter: readyz });
    });
  }

  async drain(): Promise<void> {
    const n = settings.drainEvents;
    try {
      await resetEvents(this.db, this.dialect);
      progress(`worker drain: preloading ${n} events`);
      const t0 = performance.now();
      await preloadEvents(this.db, this.dialect, n);
      const preloadSeconds = (performance.now() - t0) / 1000;
      progress(`worker drain: preloaded in ${preloadSeconds.toFixed(1)} s; draining`);
      const env: Record<string, string> = settings.workerBatchSize ? { WORKER_BATCH_SIZE: String(settings.workerBatchSize) } : {};
      const worker = startWorker(this.scratch.url, env);
      let hwmMb: number | null = null;
      try {
        const trace = await waitUntilDrained(this.db, settings.workerDrainTimeoutS * 1000, {
          initial: n,
          gone: () => worker.process.child.exitCode !== null || worker.process.child.signalCode !== null,
        });
        hwmMb = worker.rss.hwmMb();
        if (!trace.drained) {
          throw new Error(`not drained: ${trace.leftAtEnd} RECEIVED after ${trace.seconds.toFixed(0)} s\n${worker.process.stderrTail()}`);
        }
        // From the first poll that saw progress: the worker's start-up (tsx, connecting) excluded.
        const steady =
          trace.firstProgressAt !== null && trace.leftAtFirstProgress !== null && trace.seconds > trace.firstProgressAt
            ? trace.leftAtFirstProgress / (trace.seconds - trace.firstProgressAt)
            : n / trace.seconds;
        const statuses = await countByStatus(this.db);
        const notProcessed = n - (statuses.PROCESSED ?? 0);
        const note = [
          `${n} events in ${trace.seconds.toFixed(1)} s from spawn (${(n / trace.seconds).toFixed(0)} ev/s with start-up)`,
          `batch ${settings.workerBatchSize ?? `${loadConfig({}).worker.batchSize} (default)`}`,
          notProcessed > 0 ? `${notProcessed} NOT PROCESSED: ${JSON.stringify(statuses)}` : 'all PROCESSED',
        ].join('; ');
        this.rows.push({
          ...this.emptyRow('worker drain', 'ev/s'),
          rate: Math.round(steady * 10) / 10,
          peakRssMb: worker.rss.peakMb(),
          note,
          details: { events: n, preloadSeconds, trace, statuses, workerHwmMb: hwmMb },
        });
      } finally {
        await worker.process.stop();
        worker.rss.stop();
        this.processes.push({ name: 'worker', idleMb: null, peakMb: worker.rss.peakMb(), hwmMb });
      }
    } catch (err) {
      if (isAborted()) throw err;
      this.failed('worker drain', err);
    }
  }
}
