// What every request passes before its body is read:
// - while the service is shutting down, new requests get a 503 and the connection closes, so a
//   load balancer moves the client elsewhere while in-flight requests finish;
// - an HTTP/1.1 request must name its Host (RFC 9112 §3.2), answered here in our envelope;
// - at most MAX_IN_FLIGHT requests are worked on at once; beyond that a fast 503 with
//   Retry-After, so a storm of connections costs neither memory nor a queue of minutes (2,000
//   connections sending 48 KB events: p99 26 s and +470 MB RSS before);
// - one client — a subscriber once authenticated, otherwise an address — holds at most
//   MAX_IN_FLIGHT_PER_CLIENT of those places; beyond that 429. Before, one credential opening
//   300 uploads that never finished their bodies held all 256 places for the 30 s request
//   timeout, and every other partner got 503 (test/http/hostile-input.starvation.test.ts);
// - a body that stops arriving for BODY_IDLE_TIMEOUT_MS is cut with 408 (body-idle.ts).
// The bound and the shares are taken in preParsing, after the route's authentication hook has
// named the subscriber and before a byte of the body is read. Health routes
// (`config.admission: 'always'`) are exempt: a probe must be answered under overload, or the
// orchestrator kills a process that is merely busy.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ErrorCode } from '../core/errors.js';
import { watchBodyIdle } from './body-idle.js';
import { errorReply, sendError } from './error-handler.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    admission?: 'bounded' | 'always';
  }
  interface FastifyInstance {
    /** Requests being worked on now (bounded by MAX_IN_FLIGHT). */
    readonly inFlight: () => number;
  }
}

interface AdmissionOptions {
  readonly maxInFlight: number;
  /** The places one client may hold at once (MAX_IN_FLIGHT_PER_CLIENT). */
  readonly maxInFlightPerClient: number;
  /** Longest pause between two parts of a request body (BODY_IDLE_TIMEOUT_MS). */
  readonly bodyIdleTimeoutMs: number;
  /** Who a request is for the fair share: its subscriber once authenticated, else its address. */
  readonly clientOf: (request: FastifyRequest) => string;
}

export default fp(
  async function admission(app: FastifyInstance, opts: AdmissionOptions) {
    let inFlight = 0;
    /** Places held per client; a client's entry goes when it holds none. */
    const held = new Map<string, number>();
    let closing = false;
    // Refusals are counted and logged at most once a second: an overload must not also flood
    // the log.
    const refused = { shed: 0, overShare: 0, lastLog: 0 };
    const countRefusal = (kind: 'shed' | 'overShare') => {
      refused[kind]++;
      const now = Date.now();
      if (now - refused.lastLog < 1000) return;
      app.log.warn(
        {
          shed: refused.shed,
          overShare: refused.overShare,
          inFlight,
          maxInFlight: opts.maxInFlight,
          maxInFlightPerClient: opts.maxInFlightPerClient,
        },
        'overloaded: requests refused',
      );
      refused.lastLog = now;
      refused.shed = 0;
      refused.overShare = 0;
    };
    const refuse = (request: FastifyRequest, reply: FastifyReply, code: ErrorCode, message: string): void => {
      // Close the connection too: a client this far over capacity should back off. The unread
      // body is read and dropped while the answer is delivered (lingering-close.ts).
      reply.header('connection', 'close');
      request.outcome = { errorCode: code, reason: message };
      sendError(request, reply, errorReply(code, message));
    };

    app.decorate('inFlight', () => inFlight);
    app.addHook('preClose', async () => {
      closing = true;
    });
    app.addHook('onRequest', async (request, reply) => {
      reply.header('x-request-id', request.id);
      if (closing) {
        reply.header('connection', 'close');
        return sendError(request, reply, errorReply('SERVICE_UNAVAILABLE', 'The service is shutting down; retry on another instance'));
      }
      if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
        reply.header('connection', 'close');
        return sendError(request, reply, errorReply('MALFORMED_REQUEST', 'An HTTP/1.1 request must carry a Host header'));
      }
    });
    // Callback style: a refusal answers and never calls `done`, which ends the request's
    // lifecycle there (an async hook's return value would be taken for the new payload).
    app.addHook('preParsing', (request, reply, payload, done) => {
      if (request.routeOptions.config.admission === 'always') return done(null, payload);
      if (inFlight >= opts.maxInFlight) {
        countRefusal('shed');
        return refuse(request, reply, 'SERVICE_UNAVAILABLE', 'The service is at capacity; retry shortly');
      }
      const client = opts.clientOf(request);
      const mine = held.get(client) ?? 0;
      if (mine >= opts.maxInFlightPerClient) {
        countRefusal('overShare');
        return refuse(
          request,
          reply,
          'TOO_MANY_REQUESTS',
          `Too many requests in progress for this client (at most ${opts.maxInFlightPerClient} at once); retry when one has finished`,
        );
      }
      inFlight++;
      held.set(client, mine + 1);
      const stopWatch = watchBodyIdle(request, opts.bodyIdleTimeoutMs);
      // 'close' fires once per response whether it finished or the client went away.
      reply.raw.once('close', () => {
        stopWatch?.();
        inFlight--;
        const left = (held.get(client) ?? 1) - 1;
        if (left === 0) held.delete(client);
        else held.set(client, left);
      });
      done(null, payload);
    });
  },
  { name: 'admission', dependencies: ['error-handling'] },
);
