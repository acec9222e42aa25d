// Console sign-in and sign-out. `POST /console/session` trades the admin token for the session
// cookie (admin.plugin.ts checks the token, throttled per address like the Bearer header);
// `GET /console/session` says whether the browser's cookie is still good (the console asks on
// load); `DELETE /console/session` clears it. The token is in the body, never in a URL, and
// neither it nor the cookie is ever logged.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { cookieValues, SESSION_COOKIE, secureCookieFor, sessionCookieHeader } from './session-cookie.js';

const errorSchema = {
  type: 'object',
  properties: {
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' }, requestId: { type: 'string' } } },
  },
} as const;

const sessionSchema = {
  type: 'object',
  properties: {
    via: { type: 'string', enum: ['token', 'session'] },
    expiresAt: { type: ['string', 'null'], format: 'date-time' },
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
      return { via: 'session', expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.get(
    '/console/session',
    {
      schema: { ...common, summary: 'The current console session (401 when signed out)', response: { 200: sessionSchema, ...errors } },
      // A console opened while signed out asks this on every load: that is not a failed
      // authentication, so it is answered before authenticateAdmin (which would count it).
      onRequest: async (request, reply) => {
        if (request.headers.authorization === undefined && cookieValues(request.headers.cookie, SESSION_COOKIE).length === 0) {
          throw new AppError('NULL_CREDENTIALS', 'Not signed in');
        }
        await app.authenticateAdmin.call(app, request, reply);
      },
    },
    async (request) => {
      const auth = request.adminAuth;
      return { via: auth?.via ?? 'token', expiresAt: auth?.via === 'session' ? new Date(auth.expiresAt).toISOString() : null };
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
