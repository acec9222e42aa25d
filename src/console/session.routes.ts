// Console sign-in and sign-out. `POST /console/session` trades the admin token for the session
// cookie (admin.plugin.ts checks the token, throttled per address like the Bearer header);
// `GET /console/session` says whether the browser's cookie is still good (the console asks on
// load) — signed out is an answer there (200 `{"signedIn": false}`), not an error status, which a
// browser would log as a failed request on every signed-out load; `DELETE /console/session`
// clears it. The token is in the body, never in a URL, and neither it nor the cookie is ever
// logged.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { cookieValues, SESSION_COOKIE, secureCookieFor, sessionCookieHeader } from '../auth/session-cookie.js';
import { AppError } from '../core/errors.js';

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } } },
  },
} as const;

const sessionSchema = {
  type: 'object',
  required: ['signedIn'],
  properties: {
    signedIn: { type: 'boolean', description: 'false: no session (no cookie, or one expired, forged or sent from another site)' },
    via: { type: 'string', enum: ['token', 'session'], description: 'How the request authenticated (when signed in)' },
    expiresAt: { type: ['string', 'null'], format: 'date-time', description: 'When the session ends (null with the Bearer token)' },
  },
} as const;

const signInBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['token'],
  properties: { token: { type: 'string', minLength: 1, maxLength: 512, description: 'The admin token' } },
} as const;

const common = { tags: ['console'] };
const errors = { '4xx': errorSchema, '5xx': errorSchema };
const secure = (request: FastifyRequest) => secureCookieFor(request.protocol, request.hostname);

export default async function sessionRoutes(app: FastifyInstance): Promise<void> {
  app.post<{ Body: { token: string } }>(
    '/console/session',
    {
      schema: {
        ...common,
        summary: 'Sign in to the operator console with the admin token: sets the dgw_session cookie (8 h)',
        body: signInBodySchema,
        response: { 200: sessionSchema, ...errors },
      },
    },
    async (request, reply) => {
      const { value, expiresAt } = app.adminSessions.signIn(request, request.body.token);
      reply.header('set-cookie', sessionCookieHeader(value, secure(request)));
      request.outcome = { console: 'signed in' };
      return { signedIn: true, via: 'session', expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.get(
    '/console/session',
    {
      schema: {
        ...common,
        summary: 'The current console session: {"signedIn": false} when signed out (a wrong Bearer token is still a 401)',
        response: { 200: sessionSchema, ...errors },
      },
      // A console opened while signed out asks this on every load: being signed out is no failed
      // authentication, so it is neither refused nor counted by the failure throttle.
      onRequest: async (request, reply) => {
        // A presented Bearer header is a credential: checked, counted and refused as everywhere.
        if (request.headers.authorization !== undefined) return app.authenticateAdmin.call(app, request, reply);
        if (cookieValues(request.headers.cookie, SESSION_COOKIE).length === 0) return;
        try {
          await app.authenticateAdmin.call(app, request, reply);
        } catch (err) {
          // A stale, forged or cross-site session (authenticateAdmin never counts those): signed out.
          // Anything else (429 for a blocked address) stands.
          if (!(err instanceof AppError && err.statusCode === 401)) throw err;
        }
      },
    },
    async (request) => {
      const auth = request.adminAuth;
      if (auth === null) return { signedIn: false };
      return { signedIn: true, via: auth.via, expiresAt: auth.via === 'session' ? new Date(auth.expiresAt).toISOString() : null };
    },
  );

  app.delete(
    '/console/session',
    {
      schema: {
        ...common,
        summary: 'Sign out of the console: clears the session cookie',
        response: { 204: { type: 'null', description: 'Signed out (the cookie is cleared)' }, ...errors },
      },
    },
    async (request, reply) => {
      reply.header('set-cookie', sessionCookieHeader(null, secure(request)));
      request.outcome = { console: 'signed out' };
      return reply.code(204).send();
    },
  );
}
