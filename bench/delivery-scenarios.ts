// The delivery scenario of one database (BENCH_SCENARIOS=delivery; `npm run bench:delivery`), all
// against one no-op receiver in its own process (bench/receiver.ts):
//
//   delivery yardstick         bare undici.Pool POSTs (BENCH_CONNECTIONS) of the same ~1 KB payloads
//                              to the receiver: a ceiling with no database, signing or retries
//   service delivery           BENCH_DELIVERY_MESSAGES preloaded PENDING for one destination,
//                              drained by the service (default configuration, gate idle)
//   outbox cost                the gate and lead saves with no destination, then with two
//                              destinations subscribed to every type and sending paused
//                              (DELIVERY_ENABLED=false in both), interleaved, two rounds
//   gate + delivery            the gate at its maximum with one destination subscribed, sending on:
//                              the gate's rate, the deliveries during the load, the backlog's peak,
//                              lag from outcome commit to the receiver
//   lag at BENCH_LAG_RATE/s    the gate at a fixed rate, evenly spaced (bench/paced.ts), sending on: lag p50/p99
//
// Lag rows put the lag percentiles in the p50/p99 columns (their note says so).

import { addDestination } from '../test/helpers/destinations.js';
import {
  largestBacklog,
  outboxCounts,
  preloadMessages,
  type Receiver,
  resetDelivery,
  startReceiver,
  waitDelivered,
  yardstick,
} from './delivery-load.js';
import { waitUntilDrained } from './drain.js';
import type { LoadResult } from './load.js';
import { DialectBench } from './scenarios.js';
import { settings } from './settings.js';
import type { Target } from './targets.js';

const progress = (text: string) => process.stdout.write(`  ${text}\n`);
/** Destinations may reach the receiver on 127.0.0.1 (the SSRF guard refuses loopback by default). */
const LOOPBACK = { DELIVERY_ALLOW_PRIVATE_NETWORKS: '127.0.0.0/8' };
const ALL_TYPES = ['chat_summary.processed', 'event.rejected', 'lead.created', 'lead.updated'] as const;
const ROUNDS = 2;
/** How long the backlog may take to clear after the load stops before the run calls it not kept up. */
const CATCH_UP_TIMEOUT_MS = 120_000;

const round = (n: number) => Math.round(n);

export class DeliveryBench extends DialectBench {
  async delivery(): Promise<void> {
    let receiver: Receiver | undefined;
    try {
      receiver = await startReceiver();
      const yardstickRate = await this.yardstick(receiver);
      await this.drainPreloaded(receiver, yardstickRate);
      await this.outboxCost(receiver);
      await this.gateWithDelivery(receiver);
      await this.gateWithDelivery(receiver, settings.lagRate);
    } catch (err) {
      this.failed('delivery', err);
    } finally {
      await receiver?.stop();
    }
  }

  private async yardstick(receiver: Receiver): Promise<number> {
    progress(`delivery yardstick: bare undici.Pool, ${settings.connections} connections`);
    const rate = await yardstick(receiver, settings.connections, settings.seconds);
    this.rows.push({
      ...this.emptyRow('delivery yardstick', 'msg/s'),
      rate: round(rate),
      note: `bare undici.Pool POSTs, ${settings.connections} connections, same payloads; no database, no signing`,
    });
    return rate;
  }

  /** A fresh service on emptied events and outbox; `destinations` added before it starts. */
  private deliveryService(label: string, env: Record<string, string>, destinations: (() => Promise<unknown>)[] = []) {
    const start = this.service(label, env);
    return async (): Promise<Target> => {
      await resetDelivery(this.db);
      for (const add of destinations) await add();
      return start();
    };
  }

  private async drainPreloaded(receiver: Receiver, yardstickRate: number): Promise<void> {
    const n = settings.deliveryMessages;
    progress(`service delivery: ${n} messages preloaded, gate idle`);
    // Preloaded for a disabled destination, enabled once the service is up and idle: the
    // sender finds it at its next poll (DELIVERY_POLL_MS), and the rate runs from the first
    // delivery seen to the last.
    const preload = async () => {
      await addDestination(this.db, 'bench-receiver', receiver.url, { eventTypes: ['chat_summary.processed'], enabled: false });
      await preloadMessages(this.db, this.dialect, 'bench-receiver', n);
    };
    await this.with(this.deliveryService('service delivery', LOOPBACK, [preload]), 'service delivery', async (target) => {
      target.rss.startWindow();
      await this.db.updateTable('destinations').set({ enabled: 1 }).where('name', '=', 'bench-receiver').execute();
      let first: { at: number; delivered: number } | undefined;
      const deadline = performance.now() + CATCH_UP_TIMEOUT_MS * 5;
      let counts = await outboxCounts(this.db);
      while (counts.delivered < n && performance.now() < deadline) {
        if (!first && counts.delivered > 0) first = { at: performance.now(), delivered: counts.delivered };
        await new Promise((resolve) => setTimeout(resolve, 50));
        counts = await outboxCounts(this.db);
      }
      if (counts.delivered < n) throw new Error(`only ${counts.delivered} of ${n} delivered in ${CATCH_UP_TIMEOUT_MS * 5} ms`);
      const from = first ?? { at: performance.now(), delivered: 0 };
      const seconds = Math.max(0.001, (performance.now() - from.at) / 1000);
      const rate = (n - from.delivered) / seconds;
      this.rows.push({
        ...this.emptyRow('service delivery (gate idle)', 'msg/s'),
        rate: round(rate),
        ratio: Math.round((rate / yardstickRate) * 1000) / 1000,
        idleRssMb: target.idleMb,
        peakRssMb: target.rss.windowPeakMb(),
        note: `${n - from.delivered} messages in ${seconds.toFixed(1)} s; ×baseline = × the yardstick`,
      });
    });
  }

  /**
   * The outbox's own cost: the same route with no destination and with two subscribed but not
   * sending, in turns (none, paused, none, paused) so a drift of the machine hits both alike.
   */
  private async outboxCost(receiver: Receiver): Promise<void> {
    const paused = { ...LOOPBACK, DELIVERY_ENABLED: 'false' };
    const two = ['paused-a', 'paused-b'].map((name) => () => addDestination(this.db, name, receiver.url, { eventTypes: [...ALL_TYPES] }));
    for (const route of ['gate', 'leads'] as const) {
      const rates: Record<'none' | 'paused', LoadResult[]> = { none: [], paused: [] };
      let messages = 0;
      for (let i = 1; i <= ROUNDS; i++) {
        for (const variant of ['none', 'paused'] as const) {
          const label = `service ${route}, ${variant === 'none' ? 'no destination' : '2 destinations paused'} #${i}`;
          progress(label);
          await this.with(this.deliveryService(label, paused, variant === 'none' ? [] : two), label, async (target) => {
            rates[variant].push(await this.load(target, route));
            if (variant === 'paused') messages += (await outboxCounts(this.db)).total;
          });
        }
      }
      const mean = (loads: LoadResult[]) => loads.reduce((sum, l) => sum + l.perSecond, 0) / Math.max(1, loads.length);
      const none = mean(rates.none);
      for (const variant of ['none', 'paused'] as const) {
        const loads = rates[variant];
        if (loads.length === 0) continue;
        const rate = mean(loads);
        const perRound = loads.map((l) => l.perSecond.toFixed(0)).join(' / ');
        const note =
          variant === 'none'
            ? `outbox cost: DELIVERY_ENABLED=false; rounds ${perRound}`
            : `outbox cost: ${(rate / none).toFixed(3)}× no destination; rounds ${perRound}; ${messages} messages written`;
        const last = loads.at(-1) as LoadResult;
        this.rows.push({
          ...this.emptyRow(`service ${route}, ${variant === 'none' ? 'no destination' : '2 destinations paused'}`, 'req/s'),
          route,
          rate: Math.round(rate * 10) / 10,
          p50Ms: last.p50Ms,
          p99Ms: last.p99Ms,
          maxMs: last.maxMs,
          non2xx: loads.reduce((sum, l) => sum + l.non2xx, 0),
          note,
          details: { rounds: loads },
        });
      }
    }
  }

  /**
   * The gate under load (as fast as it answers, or at `rate`) with one destination subscribed to
   * chat summaries and sending on: what the gate takes, what reaches the receiver meanwhile, the
   * largest backlog, and the lag from outcome commit to the receiver.
   */
  private async gateWithDelivery(receiver: Receiver, rate?: number): Promise<void> {
    const label = rate === undefined ? 'service gate + delivery' : `delivery lag at ${rate} ev/s`;
    progress(label);
    const subscribe = () => addDestination(this.db, 'bench-receiver', receiver.url, { eventTypes: ['chat_summary.processed'] });
    await this.with(this.deliveryService(label, LOOPBACK, [subscribe]), label, async (target) => {
      await receiver.reset();
      target.rss.startWindow();
      const { result: load, maxWaiting } = await largestBacklog(this.db, 250, this.load(target, 'gate', settings.connections, false, rate));
      const duringLoad = await receiver.stats();
      const drained = await waitUntilDrained(this.db, CATCH_UP_TIMEOUT_MS);
      const caughtUp = await waitDelivered(this.db, CATCH_UP_TIMEOUT_MS);
      const after = await receiver.stats();
      const counts = await outboxCounts(this.db);
      const peakMb = target.rss.windowPeakMb();
      const catchUp = `caught up ${(drained.seconds + caughtUp.seconds).toFixed(1)} s after the load`;
      const kept = caughtUp.left === 0 ? catchUp : `NOT caught up: ${caughtUp.left} waiting ${CATCH_UP_TIMEOUT_MS / 1000} s after the load`;
      const lag = `lag commit→2xx p50 ${after.lagP50Ms} ms, p99 ${after.lagP99Ms} ms, max ${after.lagMaxMs} ms`;
      if (rate === undefined) {
        this.row(label, 'gate', target, load, peakMb, `backlog peak ${maxWaiting}; ${kept}`, { maxWaiting, counts, receiver: after });
      }
      this.rows.push({
        ...this.emptyRow(rate === undefined ? 'delivery during gate load' : label, 'msg/s'),
        rate: round(duringLoad.received / load.seconds),
        p50Ms: after.lagP50Ms,
        p99Ms: after.lagP99Ms,
        maxMs: after.lagMaxMs,
        idleRssMb: target.idleMb,
        peakRssMb: peakMb,
        note: `p50/p99 = ${lag}; gate ${load.perSecond.toFixed(0)} req/s; backlog peak ${maxWaiting}; ${counts.total} messages, ${after.received} received; ${kept}`,
        details: { load, maxWaiting, counts, receiver: after, drained, caughtUp },
      });
    });
  }
}
