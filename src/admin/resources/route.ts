// The kinds of admin resource route — a read, a list, a create, a change — as route options with
// their handler: `app.get('/dealers', lists(listDealers, …))`. Each names the operation it runs
// and the schemas that validate and document it; what they all share lives here: the admin tag
// and token, the plain error envelope, and what a write does before it answers (this process's
// subscriber directory is reloaded, so authentication sees the change on the next request, not a
// poll later).
import type {
  FastifyRequest,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
  RouteShorthandOptionsWithHandler,
} from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema.js';
import { adminErrors } from '../admin.schemas.js';
import type { PageRequest } from '../page.js';
import { listQuery, pageSchema } from './schemas.js';

/**
 * What an operation gets of a request, as the route's schemas checked it. An operation declares
 * only the parts it reads (`{ params }: { params: { uuid: string } }`); the route is typed from it.
 */
interface Input<P = unknown, Q = unknown, B = unknown> {
  readonly params: P;
  readonly query: Q;
  readonly body: B;
}

type Operation<P, Q, B> = (db: Kysely<Database>, input: Input<P, Q, B>) => Promise<unknown>;

/** A route's input schemas and its summary in the OpenAPI document. */
interface RouteDoc {
  readonly summary: string;
  readonly params?: object;
  readonly querystring?: object;
  readonly body?: object;
}

type Route<P, Q, B> = RouteShorthandOptionsWithHandler<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  { Params: P; Querystring: Q; Body: B }
>;

const options = (status: 200 | 201, response: object, doc: RouteDoc) => ({
  config: { envelope: 'plain' as const },
  schema: { tags: ['admin'], security: [{ adminToken: [] }], ...doc, response: { [status]: response, ...adminErrors } },
});

type Request<P, Q, B> = FastifyRequest<{ Params: P; Querystring: Q; Body: B }>;

/** Runs `op` on the request (Fastify's request type does not resolve P, Q, B while they are open). */
const run = <P, Q, B>(op: Operation<P, Q, B>, request: Request<P, Q, B>) => op(request.server.db, request as unknown as Input<P, Q, B>);

/** Runs `op`, then makes this process's directory see what it wrote. */
async function write<P, Q, B>(op: Operation<P, Q, B>, request: Request<P, Q, B>) {
  const value = await run(op, request);
  await request.server.directory.refresh();
  return value;
}

/** A read: 200 with what `op` returns. */
export function reads<P, Q, B>(op: Operation<P, Q, B>, response: object, doc: RouteDoc): Route<P, Q, B> {
  return { ...options(200, response, doc), handler: async (request) => run(op, request) };
}

/** A list: a page of `item`; the query string holds the filters, then the page size and cursor. */
export function lists<P, F>(
  op: Operation<P, F & PageRequest, unknown>,
  item: object,
  { filters, ...doc }: { summary: string; params?: object; filters: Record<string, object> },
): Route<P, F & PageRequest, unknown> {
  return reads(op, pageSchema(item), { ...doc, querystring: listQuery(filters) });
}

/** A create: 201 with what `op` created. */
export function creates<P, Q, B>(op: Operation<P, Q, B>, response: object, doc: RouteDoc): Route<P, Q, B> {
  return { ...options(201, response, doc), handler: async (request, reply) => reply.code(201).send(await write(op, request)) };
}

/** A change: 200 with what `op` changed. */
export function changes<P, Q, B>(op: Operation<P, Q, B>, response: object, doc: RouteDoc): Route<P, Q, B> {
  return { ...options(200, response, doc), handler: async (request) => write(op, request) };
}
