// Subscribers (partner accounts): /admin/v1/subscribers, listed by username, created with their
// password and grants, then changed one aspect at a time: password, rate limit, disabled, grants.
// Nothing here ever answers a password or its hash.
import type { FastifyInstance } from 'fastify';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { GrantSpec, RateLimitSpec, SubscriberSpec } from '../../provisioning/provisioning.schema.js';
import { type PageRequest, pageByKey } from '../page.js';
import { iso, likePattern } from './columns.js';
import { changeOne, createOne, getOne, missing, type Resource } from './resource.js';
import { changes, creates, lists, reads } from './route.js';
import { bool, exactBody, integer, subscriberFields, text, timestamp, username, usernameParamsSchema } from './schemas.js';
import { grantSpecs, type SubscriberRow, withGrants } from './subscriber-grants.js';

interface Subscriber {
  readonly username: string;
  readonly disabled: boolean;
  readonly rateLimit: RateLimitSpec | null;
  readonly grants: GrantSpec[];
  readonly createdAt: string;
  readonly updatedAt: string;
}

const subscriberSchema = {
  type: 'object',
  description: 'A partner account. Its password is never shown, not even as a hash.',
  properties: {
    username: text,
    disabled: bool,
    rateLimit: {
      type: ['object', 'null'],
      description: 'Requests per second and burst on the partner endpoints; null = unlimited',
      properties: { requestsPerSecond: { type: 'number' }, burst: integer },
    },
    grants: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          scope: text,
          // '*' (MultiDealer) or a list of dealer UUIDs: a free-form value for the serializer.
          dealers: { description: '"*" (every dealer) or a list of dealer UUIDs' },
        },
      },
    },
    createdAt: timestamp,
    updatedAt: timestamp,
  },
} as const;

const subscribers: Resource<string, SubscriberRow, Subscriber> = {
  find: async (db, name) => {
    const row = await db.selectFrom('subscribers').selectAll().where('username', '=', name).executeTakeFirst();
    return row && (await withGrants(db, [row]))[0];
  },
  toItem: (r) => ({
    username: r.username,
    disabled: r.disabled === 1,
    rateLimit: r.rate_limit === null ? null : (JSON.parse(r.rate_limit) as RateLimitSpec),
    grants: grantSpecs(r.grantRows),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  }),
  notFound: missing('Subscriber'),
  entryPath: 'subscribers[0]',
};

/** By username; `q` is a case-insensitive prefix of it. */
function listSubscribers(db: Kysely<Database>, { query }: { query: PageRequest & { q?: string } }) {
  let q = db.selectFrom('subscribers').selectAll();
  if (query.q !== undefined) q = q.where(sql<boolean>`lower(username) LIKE ${likePattern(query.q, 'prefix')} ESCAPE '\\'`);
  return pageByKey(q, 'username', query, async (rows) => (await withGrants(db, rows)).map(subscribers.toItem));
}

interface NewSubscriber {
  username: string;
  password: string;
  grants: GrantSpec[];
  disabled?: boolean;
  rateLimit?: RateLimitSpec | null;
}

/** A new subscriber with its password and grants; 409 when its username is taken. */
function createSubscriber(db: Kysely<Database>, { body }: { body: NewSubscriber }) {
  return createOne(db, subscribers, body.username, { subscribers: [body] }, () => `Subscriber ${body.username} already exists`);
}

type Change = Partial<Pick<SubscriberSpec, 'password' | 'passwordOverlapHours' | 'disabled' | 'grants' | 'rateLimit'>>;

/**
 * Changes a stored subscriber: its current state (password as its stored hash, so apply keeps
 * it) with `changes` on top. A new password replaces the hash instead; the old one keeps working
 * for `passwordOverlapHours` (default 24; 0 = stops at once).
 */
function changeSubscriber(db: Kysely<Database>, name: string, changes: Change): Promise<Subscriber> {
  const { password, ...rest } = changes;
  return changeOne(db, subscribers, name, (current, row) => ({
    subscribers: [
      {
        username: name,
        ...(password === undefined ? { passwordHash: row.password_hash } : { password }),
        disabled: current.disabled,
        rateLimit: current.rateLimit,
        grants: current.grants,
        ...rest,
      },
    ],
  }));
}

/** The body (a new password, a rate limit, grants: exactly the fields its schema allows) as the change. */
const changeFromBody = (db: Kysely<Database>, { params, body }: { params: { username: string }; body: Change }) =>
  changeSubscriber(db, params.username, body);

const setDisabled =
  (disabled: boolean) =>
  (db: Kysely<Database>, { params }: { params: { username: string } }) =>
    changeSubscriber(db, params.username, { disabled });

export default function subscriberRoutes(app: FastifyInstance): void {
  app.get(
    '/subscribers',
    lists(listSubscribers, subscriberSchema, {
      summary: 'List subscribers by username, with their grants (filter: username prefix)',
      filters: { q: { type: 'string', minLength: 1, maxLength: 128, description: 'Prefix of the username (case-insensitive)' } },
    }),
  );
  app.get(
    '/subscribers/:username',
    reads((db, { params }: { params: { username: string } }) => getOne(db, subscribers, params.username), subscriberSchema, {
      summary: 'One subscriber: grants and whether it is disabled (never its password or hash)',
      params: usernameParamsSchema,
    }),
  );
  app.post(
    '/subscribers',
    creates(createSubscriber, subscriberSchema, {
      summary: 'Create a subscriber (a partner account) with its password and grants (409 if it exists)',
      body: exactBody(
        {
          username,
          password: subscriberFields.password,
          disabled: subscriberFields.disabled,
          rateLimit: subscriberFields.rateLimit,
          grants: subscriberFields.grants,
        },
        ['username', 'password', 'grants'],
      ),
    }),
  );
  app.post(
    '/subscribers/:username/password',
    changes(changeFromBody, subscriberSchema, {
      summary:
        'Rotate a subscriber password: the new one works at once, the old one keeps working for passwordOverlapHours (default 24; 0 = stops at once)',
      params: usernameParamsSchema,
      body: exactBody({ password: subscriberFields.password, passwordOverlapHours: subscriberFields.passwordOverlapHours }, ['password']),
    }),
  );
  app.put(
    '/subscribers/:username/rate-limit',
    changes(changeFromBody, subscriberSchema, {
      summary: 'Set (or, with null, remove) the rate limit of a subscriber on the partner endpoints',
      params: usernameParamsSchema,
      body: exactBody({ rateLimit: subscriberFields.rateLimit }, ['rateLimit']),
    }),
  );
  app.post(
    '/subscribers/:username/disable',
    changes(setDisabled(true), subscriberSchema, {
      summary: 'Disable a subscriber (its credentials answer 401 at once)',
      params: usernameParamsSchema,
    }),
  );
  app.post(
    '/subscribers/:username/enable',
    changes(setDisabled(false), subscriberSchema, { summary: 'Enable a disabled subscriber again', params: usernameParamsSchema }),
  );
  app.put(
    '/subscribers/:username/grants',
    changes(changeFromBody, subscriberSchema, {
      summary: 'Replace the grants of a subscriber',
      params: usernameParamsSchema,
      body: exactBody({ grants: subscriberFields.grants }, ['grants']),
    }),
  );
}
