// The pull feed: a pull destination's consumer (a dealer system that cannot host an endpoint)
// reads its outbox messages in seq order with the destination's feed token. The cursor is the
// last seq read; reading past a cursor acknowledges: the destination's PENDING messages up to it
// become DELIVERED. Each item is signed at read time like a webhook, with the destination's
// secret(s), so the consumer verifies it with any Standard Webhooks library.
import type { Kysely } from 'kysely';
import { AppError } from '../core/errors.js';
import type { Database, DestinationRow } from '../db/schema.js';
import { isFeedToken } from '../delivery/feed-token.js';
import { sign } from '../delivery/signature.js';
import { findDestinationRow, signingSecrets } from '../outbox/destination.repository.js';

/** The feed token of a well-formed `Bearer` header; the documented 401s otherwise. */
function bearerToken(header: string | undefined): string {
  if (header === undefined || header.trim() === '')
    throw new AppError('NULL_CREDENTIALS', 'A feed token is required: Authorization: Bearer <feed token>');
  const match = /^Bearer +([\x21-\x7e]{1,512})$/i.exec(header.trim());
  if (!match) throw new AppError('MALFORMED_CREDENTIALS', 'Authorization must be "Bearer <feed token>"');
  return match[1] as string;
}

/**
 * The pull destination this header's token opens. Any failure — no such destination, a webhook
 * destination, another destination's token, a wrong one — is the same 401 WRONG_CREDENTIAL, so
 * an unauthenticated caller learns nothing about which destinations exist.
 */
export async function authenticateFeed(db: Kysely<Database>, name: string, header: string | undefined): Promise<DestinationRow> {
  const token = bearerToken(header);
  const row = await findDestinationRow(db, name);
  const stored = row?.kind === 'pull' ? row.feed_token_sha256 : null;
  if (!isFeedToken(stored, token) || row === undefined) throw new AppError('WRONG_CREDENTIAL', 'Invalid feed token');
  if (row.enabled !== 1) throw new AppError('CONFLICT', `Destination ${name} is disabled: its feed opens again when it is enabled`);
  return row;
}

interface FeedItem {
  readonly id: string;
  readonly type: string;
  readonly createdAt: string;
  /** The envelope, as a webhook receives it: {type, timestamp, data}. */
  readonly payload: unknown;
  /** The webhook-signature value over `id.timestamp.payload` (payload as compact JSON). */
  readonly signature: string;
  /** The webhook-timestamp: Unix seconds of this read. */
  readonly timestamp: number;
}

export interface FeedPage {
  readonly items: FeedItem[];
  readonly nextCursor: string;
}

/** Reading past `after` acknowledges: the destination's PENDING messages up to it are DELIVERED. */
export async function acknowledge(db: Kysely<Database>, name: string, after: number, now: number): Promise<void> {
  if (after <= 0) return;
  // Read first: most reads have nothing left to acknowledge, and a write (SQLite: the one
  // writer's lock) is taken only when there is.
  const waiting = await db
    .selectFrom('outbox_messages')
    .select('seq')
    .where('destination', '=', name)
    .where('status', '=', 'PENDING')
    .where('seq', '<=', after)
    .limit(1)
    .executeTakeFirst();
  if (waiting === undefined) return;
  await db
    .updateTable('outbox_messages')
    .set({ status: 'DELIVERED', delivered_at: now, last_error: null })
    .where('destination', '=', name)
    .where('status', '=', 'PENDING')
    .where('seq', '<=', after)
    .execute();
}

/** Up to `limit` messages after `after`, in seq order, signed now. */
export async function readFeed(
  db: Kysely<Database>,
  destination: DestinationRow,
  after: number,
  limit: number,
  now: number,
): Promise<FeedPage> {
  const rows = await db
    .selectFrom('outbox_messages')
    .select(['seq', 'id', 'event_type', 'created_at', 'payload'])
    .where('destination', '=', destination.name)
    .where('seq', '>', after)
    .orderBy('seq')
    .limit(limit)
    .execute();
  const secrets = signingSecrets(destination, now);
  const timestamp = Math.floor(now / 1000);
  const items = rows.map((row) => ({
    id: row.id,
    type: row.event_type,
    createdAt: new Date(row.created_at).toISOString(),
    payload: JSON.parse(row.payload) as unknown,
    signature: sign(secrets, row.id, timestamp, row.payload),
    timestamp,
  }));
  const last = rows.at(-1);
  return { items, nextCursor: last === undefined ? String(after) : String(last.seq) };
}

/** Whether a message after `after` exists yet (the long poll's cheap check). */
export async function hasMessagesAfter(db: Kysely<Database>, name: string, after: number): Promise<boolean> {
  const row = await db
    .selectFrom('outbox_messages')
    .select('seq')
    .where('destination', '=', name)
    .where('seq', '>', after)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
