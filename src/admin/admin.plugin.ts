// Admin authentication: `Authorization: Bearer <token>` on every /admin/v1 route, as an
// onRequest hook (nothing is read before the caller is known). Partner credentials (Basic)
// never open admin routes, and the admin token never opens partner routes: each side parses
// only its own scheme. Failures are counted per client address like partner failures, so the
// token cannot be guessed at speed.
import type { FastifyInstance, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { FailureThrottle } from '../auth/failure-throttle.js';
import type { AuthThrottleConfig } from '../config.js';
import { AppError } from '../errors.js';
import { type AdminCredential, isAdminToken } from './admin-token.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: the caller presents the admin token (401 otherwise). */
    authenticateAdmin: onRequestAsyncHookHandler;
  }
}

export const ADMIN_PREFIX = '/admin/v1';

/** The token of a well-formed `Bearer` header; throws the documented 401s otherwise. */
export function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '') throw new AppError('NULL_CREDENTIALS', 'An admin Bearer token is required');
  const match = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header.trim());
  if (!match) throw new AppError('MALFORMED_CREDENTIALS', 'Authorization must be "Bearer <admin token>"');
  return match[1] as string;
}

export interface AdminPluginOptions {
  readonly credential: AdminCredential;
  readonly throttle: AuthThrottleConfig;
}

export default fp(
  async function adminAuth(app: FastifyInstance, opts: AdminPluginOptions) {
    const failures = new FailureThrottle(opts.throttle.maxFailuresPerAddress, opts.throttle.windowMs);
    app.decorate('authenticateAdmin', async (request) => {
      const now = Date.now();
      const waitMs = failures.blockedFor(request.ip, now);
      if (waitMs > 0) throw new AppError('TOO_MANY_REQUESTS', 'Too many failed authentications; retry later', Math.ceil(waitMs / 1000));
      let token: string;
      try {
        token = bearerToken(request.headers.authorization);
      } catch (err) {
        failures.fail(request.ip, now);
        throw err;
      }
      if (!isAdminToken(opts.credential, token)) {
        failures.fail(request.ip, now);
        throw new AppError('WRONG_CREDENTIAL', 'Invalid admin token');
      }
    });
  },
  { name: 'admin-auth', dependencies: ['error-handling'] },
);
