// Basic authentication and dealer-scope checks, as onRequest hooks: they run before the body is
// even read, so an unauthenticated caller cannot make the service parse or validate anything.
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, type ErrorCode, isAppError } from '../core/errors.js';
import { parseBasicAuth } from './basic-auth.js';
import { hasScope, type Principal, type SubscriberDirectory } from './directory.js';
import type { RateLimiter } from './rate-limiter.js';
import type { Scope } from './scopes.js';

declare module 'fastify' {
  interface FastifyInstance {
    directory: SubscriberDirectory;
    /** onRequest hook: authenticates the caller (401 otherwise). */
    authenticate: onRequestAsyncHookHandler;
    /** onRequest hook: authenticates and requires one of `scopes` for the dealer in the path. */
    requireDealerScope(...scopes: Scope[]): onRequestAsyncHookHandler;
  }
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('route is missing its authentication hook');
  return request.principal;
}

interface AuthPluginOptions {
  readonly directory: SubscriberDirectory;
  /** Called with the code of each refused authentication (metrics); never with the username tried. */
  readonly onFailure?: (code: ErrorCode) => void;
  /** Per-subscriber rate limits (docs/api.md, "Rate limits"); absent = none enforced. */
  readonly rateLimiter?: RateLimiter;
}

export default fp(
  async function authPlugin(app: FastifyInstance, opts: AuthPluginOptions) {
    app.decorate('directory', opts.directory);
    app.decorateRequest('principal', null);

    const { onFailure, rateLimiter } = opts;
    const authenticate: onRequestAsyncHookHandler = async (request, reply) => {
      let principal: Principal;
      try {
        principal = await opts.directory.authenticate(parseBasicAuth(request.headers.authorization), request.ip);
      } catch (err) {
        if (onFailure && isAppError(err)) onFailure(err.code);
        throw err;
      }
      // No child logger per request: the access line and error lines name the subscriber.
      request.principal = principal;
      // Every partner route authenticates here, so this is where its subscriber's rate limit is
      // counted: after authentication (a stranger cannot spend a partner's budget), before the
      // body is read. The IETF RateLimit headers go on every answer of a limited subscriber.
      if (rateLimiter !== undefined && principal.rateLimit !== null) {
        const decision = rateLimiter.take(principal.username, principal.rateLimit);
        reply.header('ratelimit-limit', decision.limit);
        reply.header('ratelimit-remaining', decision.remaining);
        reply.header('ratelimit-reset', decision.resetSeconds);
        if (!decision.allowed) {
          throw new AppError(
            'TOO_MANY_REQUESTS',
            `Rate limit of ${principal.rateLimit.requestsPerSecond} requests per second (burst ${principal.rateLimit.burst}) exceeded; retry later`,
            decision.retryAfterSeconds,
          );
        }
      }
    };
    app.decorate('authenticate', authenticate);

    app.decorate('requireDealerScope', (...scopes: Scope[]): onRequestAsyncHookHandler => {
      return async function requireDealerScope(request, reply) {
        await authenticate.call(this, request, reply);
        const dealerUuid = (request.params as { dealerUuid?: string }).dealerUuid ?? '';
        const principal = principalOf(request);
        if (!scopes.some((scope) => hasScope(principal, scope, dealerUuid))) {
          throw new AppError('INVALID_SCOPE_DEALER', `Subscriber lacks scope ${scopes.join(' or ')} for dealer ${dealerUuid}`);
        }
      };
    });
  },
  { name: 'auth', dependencies: ['error-handling'] },
);
