// What the request thread counts, once per answer (access-log.ts calls `observe` from the
// onResponse hook that already times every request): the HTTP duration histogram, the event
// gate's counters and the lead saves'. The route pattern decides what a request was, so features
// need no metrics code: their outcome is read from the status, the principal and the facts the
// route and the error handler already put on `request.outcome` for the access line.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import type { ErrorCode } from '../core/errors.js';
import { EVENT_TYPES } from '../eventlog/event-types.js';
import { ANONYMOUS, Children } from './labels.js';
import type { MetricSet } from './metrics.js';

type RouteConfig = FastifyRequest['routeOptions']['config'];
type Inc = Counter.Internal;
type Observe = Histogram.Internal<'route' | 'method' | 'status_code'>;

/** An event gate's path: /service-pre-diag/third-party-events/{event type}/v{n} (src/events/). */
const GATE_ROUTE = /^\/service-pre-diag\/third-party-events\/([^/]+)\/v\d+$/;
const LEAD_SAVE_ROUTE = '/leads/v2/dealer/:dealerUuid';

/**
 * Answers that carry no `outcome.errorCode`: given by admission.ts (503 while closing or over
 * MAX_IN_FLIGHT, 400 without Host) or to a client that left before its answer (499).
 */
const CODE_BY_STATUS: Readonly<Record<number, string>> = { 400: 'MALFORMED_REQUEST', 499: 'CLIENT_CLOSED', 503: 'SERVICE_UNAVAILABLE' };

function errorCodeOf(request: FastifyRequest, status: number): string {
  const code = request.outcome?.errorCode;
  return typeof code === 'string' ? code : (CODE_BY_STATUS[status] ?? 'UNKNOWN');
}

interface GateChildren {
  readonly received: Children<string, Inc>;
  readonly acknowledged: Children<string, Inc>;
  readonly rejected: Children<string, Children<string, Inc>>;
}

interface LeadChildren {
  readonly created: Children<string, Inc>;
  readonly updated: Children<string, Inc>;
  readonly rejected: Children<string, Children<string, Inc>>;
}

/** Everything counted for one route, made the first time it answers. */
interface RouteMetrics {
  /** method → status code → histogram child. */
  readonly durations: Children<string, Children<number, Observe>>;
  readonly gate?: GateChildren;
  readonly lead?: LeadChildren;
}

export class RequestMetrics {
  /** Keyed by the route's config object: Fastify keeps one per route, for as long as the app. */
  private readonly routes = new WeakMap<object, RouteMetrics>();
  private readonly auth: Children<string, Inc>;

  constructor(private readonly metrics: MetricSet) {
    this.auth = new Children((code) => metrics.authFailures.labels({ code }));
    // Present (at 0) from the first scrape, so rate() and alerts see them before the first failure.
    for (const code of ['NULL_CREDENTIALS', 'MALFORMED_CREDENTIALS', 'WRONG_CREDENTIAL', 'TOO_MANY_REQUESTS'] as const)
      this.auth.get(code).inc(0);
  }

  /** Called once per answer with the route's config (read once by the caller). */
  readonly observe = (request: FastifyRequest, reply: FastifyReply, config: RouteConfig): void => {
    const route = this.routeMetrics(config);
    const status = reply.statusCode;
    route.durations
      .get(request.method)
      .get(status)
      .observe(reply.elapsedTime / 1000);
    if (route.gate === undefined && route.lead === undefined) return;
    const subscriber = request.principal?.username ?? ANONYMOUS;
    if (route.gate !== undefined) {
      route.gate.received.get(subscriber).inc();
      if (status === 200) route.gate.acknowledged.get(subscriber).inc();
      else route.gate.rejected.get(subscriber).get(errorCodeOf(request, status)).inc();
    } else if (route.lead !== undefined) {
      if (status !== 200) route.lead.rejected.get(subscriber).get(errorCodeOf(request, status)).inc();
      else if (request.outcome?.isNewCreated === true) route.lead.created.get(subscriber).inc();
      else route.lead.updated.get(subscriber).inc();
    }
  };

  /** An authentication refused (auth.plugin.ts), by its code only: never the username tried. */
  readonly authFailed = (code: ErrorCode): void => {
    this.auth.get(code).inc();
  };

  private routeMetrics(config: RouteConfig): RouteMetrics {
    let route = this.routes.get(config);
    if (route === undefined) {
      route = this.describe(config);
      this.routes.set(config, route);
    }
    return route;
  }

  private describe(config: RouteConfig): RouteMetrics {
    const { httpDuration, gateReceived, gateAcknowledged, gateRejected, leadSaves } = this.metrics;
    // The pattern, never the URL: `unmatched` for every request no route took (404, 405), whose
    // not-found context has no url (Fastify's types say it always has one).
    const pattern = (config.url as string | undefined) ?? 'unmatched';
    const durations = new Children(
      (method: string) => new Children((status: number) => httpDuration.labels(pattern, method, String(status))),
    );
    if (config.method !== 'POST') return { durations };
    if (pattern === LEAD_SAVE_ROUTE) {
      return {
        durations,
        lead: {
          created: new Children((subscriber) => leadSaves.labels({ subscriber, outcome: 'created' })),
          updated: new Children((subscriber) => leadSaves.labels({ subscriber, outcome: 'updated' })),
          rejected: new Children((subscriber) => new Children((code) => leadSaves.labels({ subscriber, outcome: 'rejected', code }))),
        },
      };
    }
    const eventType = GATE_ROUTE.exec(pattern)?.[1];
    if (eventType === undefined || !(EVENT_TYPES as readonly string[]).includes(eventType)) return { durations };
    return {
      durations,
      gate: {
        received: new Children((subscriber) => gateReceived.labels(subscriber, eventType)),
        acknowledged: new Children((subscriber) => gateAcknowledged.labels(subscriber, eventType)),
        rejected: new Children((subscriber) => new Children((code) => gateRejected.labels(subscriber, eventType, code))),
      },
    };
  }
}
