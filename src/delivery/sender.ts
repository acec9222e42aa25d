// Sends one message to one destination and says what came of it. One undici pool per
// destination (keep-alive, at most DELIVERY_CONCURRENCY_PER_DESTINATION connections), the
// SSRF guard before the request (IP literals) and at connect (names, after DNS), one timeout for
// the whole attempt, no redirect followed (a 3xx is a failure: a destination that moved must be
// edited, not guessed), and the answer kept: status, headers, the first 16 KB of its body.
import { Pool } from 'undici';
import type { DestinationRow, OutboxMessageRow } from '../db/schema.js';
import { signingSecrets } from '../outbox/destination.repository.js';
import type { AttemptRecord } from './delivery.repository.js';
import { retryAfterMs } from './retry-schedule.js';
import { signedHeaders } from './signature.js';
import { type AllowedNetworks, checkUrl, guardedLookup } from './ssrf.js';

/** What an attempt keeps of the answer's body. */
const KEPT_BODY_BYTES = 16 * 1024;
/** What it reads at most (the rest is cut with the connection): a destination cannot make us read forever. */
const READ_BODY_BYTES = 1024 * 1024;

export interface SenderOptions {
  readonly timeoutMs: number;
  readonly perDestination: number;
  readonly allowed: AllowedNetworks;
  readonly userAgent: string;
  /** Epoch ms; tests move it. */
  readonly clock?: () => number;
}

interface DestinationPool {
  readonly origin: string;
  readonly pool: Pool;
}

export class HttpSender {
  private readonly pools = new Map<string, DestinationPool>();
  private readonly nextSlot = new Map<string, number>();
  private readonly clock: () => number;

  constructor(private readonly options: SenderOptions) {
    this.clock = options.clock ?? Date.now;
  }

  /** One attempt; never throws: every failure is an AttemptRecord with its reason. */
  async send(destination: DestinationRow, message: OutboxMessageRow, signal?: AbortSignal): Promise<AttemptRecord> {
    await this.pace(destination);
    const at = this.clock();
    const started = performance.now();
    const failed = (error: string): AttemptRecord => ({
      message,
      at,
      durationMs: performance.now() - started,
      statusCode: null,
      responseHeaders: null,
      responseBody: null,
      error,
      verdict: 'failed',
    });
    const checked = checkUrl(destination.url ?? '', this.options.allowed);
    if (!checked.ok) return failed(`refused: ${checked.reason}`);
    const url = checked.url;
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      const response = await this.poolFor(destination.name, url.origin).request({
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: {
          // The JSON envelope, or an ADF document (application/xml): fixed when the message was written.
          'content-type': message.content_type,
          'user-agent': this.options.userAgent,
          ...signedHeaders(signingSecrets(destination, at), message.id, Math.floor(at / 1000), message.payload),
        },
        body: message.payload,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
      const responseBody = await readSome(response.body);
      const headers = flatHeaders(response.headers);
      const status = response.statusCode;
      return {
        message,
        at,
        durationMs: performance.now() - started,
        statusCode: status,
        responseHeaders: headers,
        responseBody,
        error: null,
        verdict: status >= 200 && status < 300 ? 'delivered' : status === 410 ? 'gone' : 'failed',
        ...(status === 429 || status === 503 ? { retryAfterMs: retryAfterMs(headers['retry-after'], at) } : {}),
      };
    } catch (error) {
      return failed(describe(error, timeout.aborted, this.options.timeoutMs));
    }
  }

  /** A destination's rate limit: sends to it start at least 1/rate seconds apart. */
  private async pace(destination: DestinationRow): Promise<void> {
    if (!destination.rate_limit) return;
    const now = this.clock();
    const slot = Math.max(now, this.nextSlot.get(destination.name) ?? 0);
    this.nextSlot.set(destination.name, slot + 1000 / destination.rate_limit);
    if (slot > now) await new Promise((resolve) => setTimeout(resolve, slot - now));
  }

  private poolFor(name: string, origin: string): Pool {
    const existing = this.pools.get(name);
    if (existing?.origin === origin) return existing.pool;
    // The URL was edited: the old pool finishes what it has and closes.
    existing?.pool.close().catch(() => {});
    const pool = new Pool(origin, {
      connections: this.options.perDestination,
      connect: { lookup: guardedLookup(this.options.allowed), timeout: this.options.timeoutMs },
      headersTimeout: this.options.timeoutMs,
      bodyTimeout: this.options.timeoutMs,
    });
    this.pools.set(name, { origin, pool });
    return pool;
  }

  async close(): Promise<void> {
    await Promise.all([...this.pools.values()].map(({ pool }) => pool.destroy().catch(() => {})));
    this.pools.clear();
  }
}

async function readSome(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let read = 0;
  for await (const chunk of body) {
    if (keptBytes < KEPT_BODY_BYTES) {
      const part = chunk.subarray(0, KEPT_BODY_BYTES - keptBytes);
      kept.push(part);
      keptBytes += part.length;
    }
    read += chunk.length;
    if (read > READ_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  return keptText(Buffer.concat(kept));
}

/**
 * The kept bytes as text that fits the attempt log: no partial character where the cut fell, no
 * NUL (PostgreSQL's text refuses it, and the whole batch of attempts would fail to be recorded),
 * and at most KEPT_BODY_BYTES once encoded (invalid bytes decode to the 3-byte U+FFFD).
 */
function keptText(bytes: Buffer): string {
  const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes, { stream: true }).replaceAll('\0', '\uFFFD');
  const encoded = Buffer.from(text, 'utf8');
  if (encoded.length <= KEPT_BODY_BYTES) return text;
  return new TextDecoder('utf-8', { ignoreBOM: true }).decode(encoded.subarray(0, KEPT_BODY_BYTES), { stream: true });
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  return flat;
}

/** The attempt log's reason for a request that got no answer. */
function describe(error: unknown, timedOut: boolean, timeoutMs: number): string {
  const code = (error as { code?: string }).code;
  if (code === 'ERR_DESTINATION_BLOCKED') return `refused: ${(error as Error).message}`;
  if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `timeout: no complete answer within ${timeoutMs} ms`;
  }
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `DNS: ${(error as Error).message}`;
  if ((error as Error).name === 'AbortError') return 'aborted: the sender stopped';
  return (error as Error).message || String(error);
}
