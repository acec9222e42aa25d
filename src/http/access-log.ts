// One log line per request, when its answer has been sent: the request id, method, path, status,
// duration, the subscriber, and what the request produced (an event's requestId, a lead's
// prospectUuid). Fastify's own pair of lines ("incoming request", "request completed") and a child
// logger per request cost ~15 % of the gate's CPU at info level (docs/performance.md); one line
// carries the same facts, written by a logger of its own (core/logger.ts: no redaction pass, as
// the line holds nothing secret; the same asynchronous destination as every other line). Health
// probes are logged at debug: an orchestrator polling every second must not fill the log.
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** Facts about the outcome, added to the request's access-log line. */
    outcome: Record<string, unknown> | null;
  }
}

interface AccessLogOptions {
  /** Where the lines go; the app's logger when absent (tests). */
  readonly logger?: FastifyBaseLogger;
  /**
   * Called for every answer, before its line is written and whatever the log level, with the
   * route's config: the metrics (src/metrics/) share this hook and its timing (`reply.elapsedTime`).
   */
  readonly onResponse?: (request: FastifyRequest, reply: FastifyReply, config: FastifyRequest['routeOptions']['config']) => void;
}

export default fp(
  async function accessLog(app: FastifyInstance, opts: AccessLogOptions) {
    app.decorateRequest('outcome', null);
    const { onResponse } = opts;
    // pino can tell whether a level is on; Fastify's no-op logger (logger: false) cannot.
    const log = (opts.logger ?? app.log) as FastifyBaseLogger & { isLevelEnabled?: (level: string) => boolean };
    app.addHook('onResponse', async (request, reply) => {
      // routeOptions is a getter that builds a new object: read it once.
      const config = request.routeOptions.config;
      onResponse?.(request, reply, config);
      const quiet = config.admission === 'always';
      const level = quiet ? 'debug' : 'info';
      if (log.isLevelEnabled?.(level) === false) return;
      log[level](
        {
          reqId: request.id,
          method: request.method,
          url: request.url,
          statusCode: reply.statusCode,
          ms: Math.round(reply.elapsedTime * 100) / 100,
          subscriber: request.principal?.username,
          ...request.outcome,
        },
        'request completed',
      );
    });
  },
  { name: 'access-log', dependencies: ['auth'] },
);
