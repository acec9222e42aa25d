// GET /feeds/v1/{destination}: the pull feed of a pull destination, for a consumer that cannot
// host a webhook endpoint. Bearer feed token; cursor = the last seq read; long poll with `wait`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { FailureThrottle } from '../auth/failure-throttle.js';
import type { AuthThrottleConfig } from '../core/config.js';
import { AppError, isAppError } from '../core/errors.js';
import { DESTINATION_NAME_SCHEMA } from '../delivery/destination.rules.js';
import { plainErrors } from '../http/error-schemas.js';
import { acknowledge, authenticateFeed, hasMessagesAfter, readFeed } from './feed.service.js';

/** How often a long poll looks for new messages (the DB; any process may have written them). */
const POLL_MS = 50;

const feedItemSchema = {
  type: 'object',
  required: ['id', 'type', 'createdAt', 'payload', 'signature', 'timestamp'],
  properties: {
    id: { type: 'string', description: 'The message id: the webhook-id to verify the signature with.' },
    type: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    payload: {
      type: 'object',
      additionalProperties: true,
      description: 'The envelope a webhook receives: {type, timestamp, data}. Signed as its compact JSON (JSON.stringify of this object).',
    },
    signature: { type: 'string', description: 'The webhook-signature value, computed at this read with the destination secret(s).' },
    timestamp: { type: 'integer', description: 'The webhook-timestamp: Unix seconds of this read.' },
  },
} as const;

const feedPageSchema = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: feedItemSchema },
    nextCursor: {
      type: 'string',
      description: "The last item's seq, or the given cursor when there is none: pass it as `after` next time.",
    },
  },
} as const;

interface FeedQuery {
  after: string;
  limit: number;
  wait: number;
}

export default async function feedRoutes(app: FastifyInstance, opts: { throttle: AuthThrottleConfig }): Promise<void> {
  // Failed feed authentications per address, as for partners and the admin token: past
  // AUTH_MAX_FAILURES_PER_ADDRESS in AUTH_FAILURE_WINDOW_MS the address gets 429 until the window ends.
  const failures = new FailureThrottle(opts.throttle.maxFailuresPerAddress, opts.throttle.windowMs);
  const authenticate = async (ip: string, name: string, header: string | undefined) => {
    const now = Date.now();
    const waitMs = failures.blockedFor(ip, now);
    if (waitMs > 0) throw new AppError('TOO_MANY_REQUESTS', 'Too many failed authentications; retry later', Math.ceil(waitMs / 1000));
    try {
      return await authenticateFeed(app.db, name, header);
    } catch (error) {
      if (isAppError(error) && error.statusCode === 401) failures.fail(ip, now);
      throw error;
    }
  };
  // Shutting down: long polls answer what they have now instead of holding the close up.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  app.get<{ Params: { destination: string }; Querystring: FeedQuery }>(
    '/feeds/v1/:destination',
    {
      config: { envelope: 'plain' },
      schema: {
        tags: ['feeds'],
        summary: 'Read the messages of a pull destination after a cursor (reading past a cursor acknowledges what it covers)',
        security: [{ feedToken: [] }],
        params: { type: 'object', required: ['destination'], properties: { destination: DESTINATION_NAME_SCHEMA } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            after: {
              type: 'string',
              pattern: '^[0-9]{1,15}$',
              default: '0',
              description: 'nextCursor of the previous read; its messages and those before are acknowledged (DELIVERED).',
            },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
            wait: {
              type: 'integer',
              minimum: 0,
              maximum: 30,
              default: 0,
              description: 'Seconds to wait for a message when there is none after the cursor (long poll).',
            },
          },
        },
        response: { 200: feedPageSchema, ...plainErrors },
      },
    },
    async (request, reply) => {
      const { destination: name } = request.params;
      const destination = await authenticate(request.ip, name, request.headers.authorization);
      const after = Number(request.query.after);
      const { limit, wait } = request.query;
      await acknowledge(app.db, name, after, Date.now());
      if (wait > 0) {
        const deadline = Date.now() + wait * 1000;
        // The response's close before it is written: the client went away, stop polling for it.
        let gone = false;
        const onClose = () => {
          gone = true;
        };
        reply.raw.once('close', onClose);
        try {
          while (!closing && !gone && Date.now() < deadline && !(await hasMessagesAfter(app.db, name, after))) {
            await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
          }
        } finally {
          reply.raw.off('close', onClose);
        }
      }
      return readFeed(app.db, destination, after, limit, Date.now());
    },
  );
}
