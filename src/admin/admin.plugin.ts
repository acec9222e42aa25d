// Admin authentication on every /admin/v1 route, as an onRequest hook (nothing is read before the
// caller is known): `Authorization: Bearer <token>`, or the operator console's session cookie
// (src/auth/session-cookie.ts), which the console gets by presenting the same token to
// `POST /console/session` (signIn below). Partner credentials (Basic) never open admin routes,
// and the admin token never opens partner routes: each side parses only its own scheme.
// Failures are counted per client address like partner failures, so the token cannot be guessed
// at speed, through the header or through the console's sign-in.
//
// Cookie rules: an Authorization header, when present, is the only credential looked at. A
// cookie-authenticated request that changes something (not GET/HEAD/OPTIONS) must also carry
// `X-Requested-With: dealer-gateway-console` — a CSRF defence on top of SameSite=Strict, since
// another site cannot set that header without a CORS preflight, which this service never
// grants. Without it the cookie does not count: 401 NULL_CREDENTIALS (no new error code). A bad
// or expired cookie is 401 WRONG_CREDENTIAL. Neither is counted as a failure: a forged request
// from another site runs in the operator's own browser, and must not lock the operator out
// (and a 256-bit MAC cannot be guessed anyway). A session is also refused when the browser's
// Sec-Fetch-Site says the request came from another origin.
import type { FastifyInstance, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { FailureThrottle } from '../auth/failure-throttle.js';
import {
  CONSOLE_HEADER,
  CONSOLE_HEADER_VALUE,
  cookieValues,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionKey,
  signSession,
  verifySession,
} from '../auth/session-cookie.js';
import type { AuthThrottleConfig } from '../core/config.js';
import { AppError } from '../core/errors.js';
import { type AdminCredential, isAdminToken } from './admin-token.js';

/** How an admin request authenticated. */
type AdminAuth = { readonly via: 'token' } | { readonly via: 'session'; readonly expiresAt: number };

interface AdminSessions {
  /** Checks an admin token presented to the console (throttled like the header) and signs a session. */
  signIn(request: FastifyRequest, token: string): { readonly value: string; readonly expiresAt: number };
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: the caller presents the admin token or a console session (401 otherwise). */
    authenticateAdmin: onRequestAsyncHookHandler;
    adminSessions: AdminSessions;
  }
  interface FastifyRequest {
    /** Set by authenticateAdmin; null on requests it did not run for. */
    adminAuth: AdminAuth | null;
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

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface AdminPluginOptions {
  readonly credential: AdminCredential;
  readonly throttle: AuthThrottleConfig;
}

export default fp(
  async function adminAuth(app: FastifyInstance, opts: AdminPluginOptions) {
    const failures = new FailureThrottle(opts.throttle.maxFailuresPerAddress, opts.throttle.windowMs);
    const key = sessionKey(opts.credential.digest);

    const refuseIfBlocked = (request: FastifyRequest, now: number) => {
      const waitMs = failures.blockedFor(request.ip, now);
      if (waitMs > 0) throw new AppError('TOO_MANY_REQUESTS', 'Too many failed authentications; retry later', Math.ceil(waitMs / 1000));
    };

    /** The console session a request carries: undefined without the cookie, null when none is valid. */
    const sessionOf = (request: FastifyRequest, now: number): { expiresAt: number } | null | undefined => {
      const values = cookieValues(request.headers.cookie, SESSION_COOKIE);
      if (values.length === 0) return undefined;
      for (const value of values) {
        const session = verifySession(key, value, now);
        if (session) return session;
      }
      return null;
    };

    app.decorateRequest('adminAuth', null);
    app.decorate('authenticateAdmin', async (request: FastifyRequest) => {
      const now = Date.now();
      refuseIfBlocked(request, now);
      if (request.headers.authorization === undefined) {
        const session = sessionOf(request, now);
        if (session === null) throw new AppError('WRONG_CREDENTIAL', 'The console session is invalid or has expired; sign in again');
        if (session !== undefined) {
          if (!SAFE_METHODS.has(request.method) && request.headers[CONSOLE_HEADER] !== CONSOLE_HEADER_VALUE) {
            throw new AppError(
              'NULL_CREDENTIALS',
              `A console session authenticates a ${request.method} only with the header X-Requested-With: ${CONSOLE_HEADER_VALUE}`,
            );
          }
          // Browsers say where a request comes from (Fetch Metadata); a session is only good for
          // the console's own pages. Absent (older browsers, tools) the checks above stand alone.
          const site = request.headers['sec-fetch-site'];
          if (site !== undefined && site !== 'same-origin' && !(site === 'none' && SAFE_METHODS.has(request.method))) {
            throw new AppError('NULL_CREDENTIALS', `A console session is not accepted from a ${String(site)} request`);
          }
          request.adminAuth = { via: 'session', expiresAt: session.expiresAt };
          return;
        }
      }
      let token: string;
      try {
        token = bearerToken(request.headers.authorization);
      } catch (err) {
        // No credential at all is no guess: only malformed headers count towards the lockout.
        if (request.headers.authorization !== undefined) failures.fail(request.ip, now);
        throw err;
      }
      if (!isAdminToken(opts.credential, token)) {
        failures.fail(request.ip, now);
        throw new AppError('WRONG_CREDENTIAL', 'Invalid admin token');
      }
      request.adminAuth = { via: 'token' };
    });

    app.decorate('adminSessions', {
      signIn(request: FastifyRequest, token: string) {
        const now = Date.now();
        refuseIfBlocked(request, now);
        if (!isAdminToken(opts.credential, token)) {
          failures.fail(request.ip, now);
          throw new AppError('WRONG_CREDENTIAL', 'Invalid admin token');
        }
        const expiresAt = now + SESSION_TTL_MS;
        return { value: signSession(key, expiresAt), expiresAt };
      },
    } satisfies AdminSessions);
  },
  { name: 'admin-auth', dependencies: ['error-handling'] },
);
