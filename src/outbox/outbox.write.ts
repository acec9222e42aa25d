// The transactional outbox: the messages an outcome owes its destinations are inserted by the
// statement batch that writes the outcome, inside the same transaction. So there is no outcome
// without its messages and no message without its outcome, whatever crashes when, and no commit
// (no fsync) of their own: they ride the group commit (SQLite) or the worker's batch (PostgreSQL).
import type { Kysely } from 'kysely';
import { uuidv7 } from '../core/uuidv7.js';
import { inChunks } from '../db/chunks.js';
import { lockKeysForTransaction } from '../db/dialect.js';
import type { Database } from '../db/schema.js';
import type { AdfResult } from './adf.js';
import { ADF_CONTENT_TYPE, adfDocuments } from './adf-payload.js';
import { type Destination, listDestinations } from './destination.repository.js';
import type { Outbound } from './outbound-types.js';

/**
 * Messages this thread has inserted so far. A sender in the same thread compares it after each
 * commit to know whether to look for work now rather than at its next poll (deliverer.ts).
 */
export const enqueued = { count: 0 };

/** Messages inserted by destination and type since the last drain: `destination\u0000type` → count (metrics). */
let created = new Map<string, number>();

/** What was created since the last call, as [destination, type, count]; starts counting afresh. */
export function drainCreated(): [string, string, number][] {
  const taken = [...created].map(([key, n]): [string, string, number] => {
    const [destination = '', type = ''] = key.split('\u0000');
    return [destination, type, n];
  });
  created = new Map();
  return taken;
}

/**
 * A message's id (the `webhook-id` header): stable across retries, unique across destinations.
 * Time-ordered (UUIDv7), so a batch's messages append to the end of the id index: random ids put
 * each message on a page of its own, and those pages were most of what a commit wrote.
 */
export const newMessageId = () => `msg_${uuidv7().replaceAll('-', '')}`;

/** The envelope every destination receives, serialised once: the signed bytes are these. */
export const envelope = (outbound: Outbound, now: number) =>
  JSON.stringify({ type: outbound.type, timestamp: new Date(now).toISOString(), data: outbound.data });

const JSON_CONTENT_TYPE = 'application/json';
/** Unreachable while destination.rules.ts lets adf-xml carry lead types only; named if that changes. */
const NOT_A_LEAD: AdfResult = { ok: false, code: 'ADF_NOT_A_LEAD', message: 'only a saved lead has an ADF document' };

/** The ADF documents of the lead saves some adf-xml destination wants (none read otherwise). */
async function adfFor(trx: Kysely<Database>, outbounds: readonly Outbound[], destinations: readonly Destination[]) {
  const adfDestinations = destinations.filter((d) => d.format === 'adf-xml');
  const saves = outbounds.filter((o) => o.leadSave !== undefined && adfDestinations.some((d) => wants(d, o)));
  const documents = await adfDocuments(
    trx,
    saves.map((o) => o.leadSave as NonNullable<Outbound['leadSave']>),
  );
  return new Map(saves.map((o, i) => [o, documents[i] as AdfResult]));
}

const wants = (destination: Destination, outbound: Outbound): boolean =>
  destination.eventTypes.includes(outbound.type) &&
  (destination.dealers === '*' || (outbound.dealerUuid !== null && destination.dealers.includes(outbound.dealerUuid)));

/**
 * Inserts one PENDING message per outbound and subscribed destination, in `outbounds`' order
 * (the order the outcomes were written in) — FAILED at once for a lead an adf-xml destination
 * wants but no ADF document can be made of. One read of the destinations and at most one insert
 * per call: a batch of outcomes costs two statements, none when nothing is subscribed.
 * Disabled destinations still get their messages: they wait until it is enabled again.
 */
export async function enqueueMessages(trx: Kysely<Database>, outbounds: readonly Outbound[], now: number): Promise<number> {
  if (outbounds.length === 0) return 0;
  const destinations = await listDestinations(trx);
  if (destinations.length === 0) return 0;
  const adf = await adfFor(trx, outbounds, destinations);
  const rows = outbounds.flatMap((outbound) => {
    const matching = destinations.filter((destination) => wants(destination, outbound));
    if (matching.length === 0) return [];
    // Serialised once for every json destination, and not at all when only ADF ones want it.
    const json = matching.some((d) => d.format === 'json') ? envelope(outbound, now) : '';
    return matching.map((destination) => {
      const common = {
        id: newMessageId(),
        destination: destination.name,
        event_type: outbound.type,
        dealer_uuid: outbound.dealerUuid,
        ordering_key: outbound.dealerUuid ?? '',
        source_id: outbound.sourceId,
        created_at: now,
        next_attempt_at: now,
      };
      // Every row names every column: a multi-row INSERT cannot leave some to their defaults on SQLite.
      if (destination.format === 'json')
        return { ...common, payload: json, content_type: JSON_CONTENT_TYPE, status: 'PENDING', last_error: null };
      const document = adf.get(outbound) ?? NOT_A_LEAD;
      // A lead with no document (no way to reach the customer): a dead letter from the start,
      // its reason where operators look (the console's deliveries, the messages API).
      return document.ok
        ? { ...common, payload: document.xml, content_type: ADF_CONTENT_TYPE, status: 'PENDING', last_error: null }
        : { ...common, payload: '', content_type: ADF_CONTENT_TYPE, status: 'FAILED', last_error: `${document.code}: ${document.message}` };
    });
  });
  // Per-dealer destinations: messages of one dealer get their sequence numbers in commit order,
  // also when several processes commit outcomes at once (PostgreSQL; dialect.ts).
  const perDealer = new Set(destinations.filter((d) => d.ordering === 'per-dealer').map((d) => d.name));
  // Pull destinations: all their messages get sequence numbers in commit order, so a feed reader
  // past seq C never misses a message committed later with a smaller seq (GET /feeds/v1).
  const pull = new Set(destinations.filter((d) => d.kind === 'pull').map((d) => d.name));
  await lockKeysForTransaction(trx, [
    ...rows.filter((row) => perDealer.has(row.destination)).map((row) => `outbox|${row.destination}|${row.ordering_key}`),
    ...rows.filter((row) => pull.has(row.destination)).map((row) => `outbox|${row.destination}|feed`),
  ]);
  // 13 bound values per row: a chunk of 1000 stays under SQLite's limit of 32 766.
  for (const chunk of inChunks(rows)) await trx.insertInto('outbox_messages').values(chunk).execute();
  enqueued.count += rows.length;
  for (const row of rows) {
    const key = `${row.destination}\u0000${row.event_type}`;
    created.set(key, (created.get(key) ?? 0) + 1);
  }
  return rows.length;
}
