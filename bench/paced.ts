// A fixed-rate load generator, run as its own process by bench/load.ts: requests start at even
// intervals (1 ms apart at 1 000/s), whether or not earlier answers came, up to PACED_CONNECTIONS
// in flight. autocannon's -R is no such thing: each connection sends its whole quota at the start
// of every second and then waits, so "1 000/s" arrives as a burst of 1 000 once a second.
// Prints one line: PACED_JSON {requests, seconds, p50Us, p99Us, maxUs, meanUs, non2xx, errors, late}.
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const env = (name: string) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};
const url = new URL(env('PACED_URL'));
const rate = Number(env('PACED_RATE'));
const seconds = Number(env('PACED_SECONDS'));
const connections = Number(env('PACED_CONNECTIONS'));
const bodies = readFileSync(env('PACED_BODIES'), 'utf8').split('\n').filter(Boolean);
const headers = { 'content-type': 'application/json', authorization: env('PACED_AUTHORIZATION') };

const pool = new Pool(url.origin, { connections });
const latencies: number[] = [];
let inFlight = 0;
let non2xx = 0;
let errors = 0;
/** Starts skipped because every connection was busy: the server fell behind the rate. */
let late = 0;
let sent = 0;

async function one(i: number): Promise<void> {
  inFlight++;
  const started = performance.now();
  try {
    const res = await pool.request({ path: url.pathname, method: 'POST', headers, body: bodies[i % bodies.length] });
    await res.body.dump();
    if (res.statusCode < 200 || res.statusCode > 299) non2xx++;
    latencies.push((performance.now() - started) * 1000);
  } catch {
    errors++;
  } finally {
    inFlight--;
  }
}

const total = Math.round(rate * seconds);
const start = performance.now();
const pending: Promise<void>[] = [];
while (sent + late < total) {
  const due = start + ((sent + late) * 1000) / rate;
  const wait = due - performance.now();
  if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait - 1));
  while (performance.now() < due) await new Promise((resolve) => setImmediate(resolve));
  if (inFlight >= connections) {
    late++;
    continue;
  }
  pending.push(one(sent));
  sent++;
}
await Promise.all(pending);
const elapsed = (performance.now() - start) / 1000;
await pool.close();
latencies.sort((a, b) => a - b);
const at = (q: number) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
const mean = latencies.reduce((sum, l) => sum + l, 0) / Math.max(1, latencies.length);
process.stdout.write(
  `PACED_JSON ${JSON.stringify({ requests: latencies.length, seconds: elapsed, p50Us: at(0.5), p99Us: at(0.99), maxUs: at(1), meanUs: Math.round(mean), non2xx, errors, late })}\n`,
);
