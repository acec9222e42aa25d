// Shared pieces of the event tests: a provisioning fixture with event partners (integrations with
// and without a transform, inactive, missing), VINs with correct check digits, and helpers to send
// an event through the gate, read its status, look at the stored rows and drive the worker.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { Kysely } from 'kysely';
import pino from 'pino';
import type { SubscriberDirectory } from '../../src/auth/directory.js';
import type { WorkerConfig } from '../../src/core/config.js';
import type { Db, Transact } from '../../src/db/connect.js';
import type { Database, EventRow, NewEventRow } from '../../src/db/schema.js';
import { findEvent, receivedEventRow } from '../../src/eventlog/event.repository.js';
import { vinCheckDigit } from '../../src/pipeline/vin.js';
import { type BatchReport, Worker } from '../../src/pipeline/worker.js';
import { basic } from './suite.js';

export const EVENTS_URL = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';
export const EVENT_TYPE = 'vehicle-service-chat';
export const EVENT_SCOPE = 'spd.events.vehicleservicechat.write';
export const PASSWORD = 'correct-horse-1';
export const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** An event's requestId: a time-ordered UUIDv7 (src/core/uuidv7.ts). */
export const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Puts the correct North American check digit in position 9. */
function withCheckDigit(vin: string): string {
  return `${vin.slice(0, 8)}${vinCheckDigit(vin)}${vin.slice(9)}`;
}

/** The same VIN with a wrong check digit in position 9. */
export function withWrongCheckDigit(vin: string): string {
  const right = vinCheckDigit(vin);
  return `${vin.slice(0, 8)}${right === '0' ? '1' : '0'}${vin.slice(9)}`;
}

/** v-1 of customer c-1 at dealer d-1 (a real, valid VIN). */
export const VIN_1 = '1HGCM82633A004352';
/** v-3 of customer c-3 at dealer d-1. */
export const VIN_3 = withCheckDigit('1FTFW1ET0DFC10312');
/** v-2 of customer c-2 at dealer d-2. */
export const VIN_2 = withCheckDigit('2T1BURHE0JC043821');
/** Valid, but no dealer has a vehicle with it. */
export const VIN_UNREGISTERED = withCheckDigit('5YJ3E1EA0KF317000');
/** v-9 of customer c-1 at dealer d-1, registered with a wrong check digit (a grey import). */
export const VIN_BAD_CHECK_REGISTERED = withWrongCheckDigit('JH4KA7650MC002131');

/** The partner-side JSON Schema of the `transformer` integration. */
export const TRANSFORMER_SCHEMA = {
  type: 'object',
  required: ['store', 'chat'],
  properties: {
    store: { type: 'object', required: ['id'], properties: { id: { type: 'string' } } },
    chat: {
      type: 'object',
      required: ['code'],
      properties: {
        code: { type: 'string' },
        summary: { type: 'string' },
        escalate: { type: 'boolean' },
        at: { type: 'integer' },
      },
    },
    customer: { type: 'object', properties: { name: { type: 'string' } } },
    vehicle: { type: 'object', properties: { vin: { type: 'string' }, id: { type: 'string' } } },
    items: { type: 'array', items: { type: 'object', required: ['text'] } },
  },
};

/** The `transformer` partner's own shape → the canonical chat summary (JSONata). */
export const TRANSFORMER_TRANSFORM = `{
  "dealer_uuid": store.id,
  "customer_name": customer.name,
  "vin": vehicle.vin,
  "vehicle_uuid": vehicle.id,
  "chat_code": chat.code,
  "summary": chat.summary,
  "escalation_flag": chat.escalate,
  "event_timestamp": chat.at,
  "line_items": [items.{ "description": text, "payable": customerPays }],
  "transcript": [messages.{ "customer": from = "customer" ? text : null, "assistant": from = "assistant" ? text : null }],
  "media": [attachments.{ "type": kind, "url": href }]
}`;

export const integrations = {
  /** Dealer-level grant for d-1 only; no transform; partner ids P-100 → d-1, P-200 → d-2. */
  partner: { subscriber: 'partner', eventType: EVENT_TYPE, dealerMap: { 'P-100': 'd-1', 'P-200': 'd-2' } },
  /** MultiDealer grant; no transform; partner ids EXT-1 → d-1, EXT-2 → d-2. */
  multi: { subscriber: 'multi-partner', eventType: EVENT_TYPE, dealerMap: { 'EXT-1': 'd-1', 'EXT-2': 'd-2' } },
  /** Dealer-level grant for d-1 only; JSON Schema + JSONata transform; stores S-1 → d-1, S-2 → d-2. */
  transformer: {
    subscriber: 'transformer',
    eventType: EVENT_TYPE,
    dealerMap: { 'S-1': 'd-1', 'S-2': 'd-2' },
    schema: TRANSFORMER_SCHEMA,
    transform: TRANSFORMER_TRANSFORM,
  },
  /** MultiDealer grant; no transform; the dealer id sits at store.id. */
  dotted: { subscriber: 'dotted', eventType: EVENT_TYPE, dealerIdField: 'store.id', dealerMap: { 'S-1': 'd-1' } },
  /** MultiDealer grant; integration switched off. */
  inactive: { subscriber: 'inactive-partner', eventType: EVENT_TYPE, active: false },
  /** Holds an active integration but no spd.events scope at all. */
  noScope: { subscriber: 'no-scope', eventType: EVENT_TYPE },
  /** MultiDealer grant; active at first (tests switch it off). */
  switchable: { subscriber: 'switch', eventType: EVENT_TYPE, dealerMap: {} },
} as const;

const events = (dealers: '*' | string[]) => [{ scope: EVENT_SCOPE, dealers }];

export const eventsFixture = {
  dealers: [
    { uuid: 'd-1', name: 'Test Imports LLC' },
    { uuid: 'd-2', name: 'Harbor Motors' },
    { uuid: 'd-3', name: 'Lakeside Auto' },
  ],
  subscribers: [
    { username: 'partner', password: PASSWORD, grants: events(['d-1']) },
    { username: 'multi-partner', password: PASSWORD, grants: events('*') },
    { username: 'transformer', password: PASSWORD, grants: events(['d-1']) },
    { username: 'dotted', password: PASSWORD, grants: events('*') },
    { username: 'inactive-partner', password: PASSWORD, grants: events('*') },
    { username: 'no-integration', password: PASSWORD, grants: events('*') },
    { username: 'no-scope', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: '*' }] },
    { username: 'switch', password: PASSWORD, grants: events('*') },
    { username: 'off', password: PASSWORD, disabled: true, grants: events('*') },
  ],
  customers: [
    {
      dealer: 'd-1',
      uuid: 'c-1',
      firstName: 'Jane',
      lastName: 'Doe',
      vehicles: [
        { uuid: 'v-1', vin: VIN_1, year: 2003, make: 'Honda', model: 'Accord' },
        { uuid: 'v-9', vin: VIN_BAD_CHECK_REGISTERED, year: 1991, make: 'Acura', model: 'Legend' },
      ],
    },
    { dealer: 'd-1', uuid: 'c-3', firstName: 'Ann', vehicles: [{ uuid: 'v-3', vin: VIN_3 }] },
    { dealer: 'd-2', uuid: 'c-2', firstName: 'Sam', vehicles: [{ uuid: 'v-2', vin: VIN_2 }] },
  ],
  integrations: Object.values(integrations),
};

/**
 * One dealer (d-1, with customer c-1 and vehicle v-1 of VIN_1) and one partner whose integration
 * maps its own dealer id to d-1: the provisioning of the process-level load tests.
 */
export function onePartnerFixture(username: string, password: string, partnerDealerId: string) {
  return {
    dealers: [{ uuid: 'd-1', name: 'Test Imports LLC' }],
    subscribers: [{ username, password, grants: [{ scope: EVENT_SCOPE, dealers: ['d-1'] }] }],
    customers: [
      {
        dealer: 'd-1',
        uuid: 'c-1',
        firstName: 'Jane',
        lastName: 'Doe',
        vehicles: [{ uuid: 'v-1', vin: VIN_1, year: 2003, make: 'Honda', model: 'Accord' }],
      },
    ],
    integrations: [{ subscriber: username, eventType: EVENT_TYPE, active: true, dealerMap: { [partnerDealerId]: 'd-1' } }],
  };
}

export interface SendOptions {
  readonly username?: string;
  readonly password?: string;
  /** Omit the Authorization header. */
  readonly noAuth?: boolean;
  readonly idempotencyKey?: string;
  /** Content-Type to send; null sends none. Default application/json. */
  readonly contentType?: string | null;
  /** Where to POST; default the gate (EVENTS_URL). */
  readonly url?: string;
}

/** POSTs to the gate. Objects are JSON-encoded; strings and Buffers are sent byte for byte. */
export function sendEvent(app: FastifyInstance, body: unknown, options: SendOptions = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {};
  if (!options.noAuth) headers.authorization = basic(options.username ?? 'multi-partner', options.password ?? PASSWORD);
  const contentType = options.contentType === undefined ? 'application/json' : options.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  return app.inject({ method: 'POST', url: options.url ?? EVENTS_URL, headers, payload });
}

/** Sends an event that must be accepted; returns its requestId. */
export async function acceptEvent(app: FastifyInstance, body: unknown, options: SendOptions = {}): Promise<string> {
  const res = await sendEvent(app, body, options);
  if (res.statusCode !== 200) throw new Error(`event not accepted: ${res.statusCode} ${res.body}`);
  return (res.json() as { requestId: string }).requestId;
}

export function getStatus(app: FastifyInstance, requestId: string, username = 'multi-partner'): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'GET',
    url: `${EVENTS_URL}/${encodeURIComponent(requestId)}`,
    headers: { authorization: basic(username, PASSWORD) },
  });
}

export interface StatusBody {
  requestId: string;
  status: string;
  receivedAt: string;
  processedAt: string | null;
  errors: { errorCode: string; errorMessage: string }[];
  warnings: { warningCode: string; warningMessage: string }[];
  event: Record<string, unknown> | null;
}

/** The status of an event that must exist for `username`. */
export async function statusOf(app: FastifyInstance, requestId: string, username = 'multi-partner'): Promise<StatusBody> {
  const res = await getStatus(app, requestId, username);
  if (res.statusCode !== 200) throw new Error(`status of ${requestId}: ${res.statusCode} ${res.body}`);
  return res.json() as StatusBody;
}

export async function countRows(db: Kysely<Database>, table: 'events' | 'chat_summaries'): Promise<number> {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A stored event with its body (throws if there is no such event, or its body was purged). */
export async function eventRow(db: Kysely<Database>, requestId: string): Promise<EventRow> {
  const row = await findEvent(db, requestId);
  if (!row) throw new Error(`no event ${requestId}`);
  const { raw_body } = row;
  if (raw_body === null) throw new Error(`event ${requestId} has no body (purged)`);
  return { ...row, raw_body };
}

export function summaryRow(db: Kysely<Database>, requestId: string) {
  return db.selectFrom('chat_summaries').selectAll().where('request_id', '=', requestId).executeTakeFirst();
}

export const silentLog = pino({ level: 'silent' });

export function makeWorker(db: Db, directory: SubscriberDirectory, config: WorkerConfig, workerId = 'w1', transact?: Transact): Worker {
  return new Worker({ db, directory, log: silentLog, config, workerId, transact });
}

/** Runs `worker.runOnce(now)` until a batch claims nothing; returns the summed reports. */
export async function drain(worker: Worker, now?: number): Promise<BatchReport> {
  const total: BatchReport = { claimed: 0, processed: 0, rejected: 0, retried: 0, failed: 0, leaseLost: 0 };
  for (let round = 0; round < 100; round++) {
    const report = await worker.runOnce(now);
    for (const key of Object.keys(total) as (keyof BatchReport)[]) total[key] += report[key];
    if (report.claimed === 0) return total;
  }
  throw new Error('the queue did not drain in 100 batches');
}

/** A valid canonical body (no transform needed) for `multi-partner` at d-1. */
export function chatBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer_name: 'Jane Doe',
    vin: VIN_1,
    chat_code: 'CHAT-1',
    vehicle_uuid: 'v-1',
    appointment_uuid: 'appt-1',
    dealer_uuid: 'd-1',
    event_timestamp: 1_700_000_000_000,
    summary: 'Customer reports a squeal when braking; brake inspection booked.',
    escalation_flag: false,
    line_items: [
      { description: 'Brake inspection', payable: false },
      { description: 'Front brake pads', payable: true },
    ],
    transcript: [{ customer: 'My brakes squeal.', assistant: 'Let us book an inspection.' }],
    media: [
      { type: 'image', url: 'https://cdn.example.com/pads.jpg' },
      { type: 'video', url: 'http://cdn.example.com/noise.mp4' },
    ],
    ...overrides,
  };
}

/** A valid body in the `transformer` partner's own shape. */
export function transformerBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    store: { id: 'S-1' },
    customer: { name: 'Jane Doe' },
    vehicle: { vin: VIN_1, id: 'v-1' },
    chat: { code: 'TX-1', summary: 'Oil change due', escalate: true, at: 1_700_000_000_000 },
    items: [{ text: 'Oil change', customerPays: true }],
    messages: [
      { from: 'customer', text: 'Is my oil change due?' },
      { from: 'assistant', text: 'Yes, at 5,000 miles.' },
    ],
    attachments: [{ kind: 'image', href: 'https://cdn.example.com/dash.png' }],
    ...overrides,
  };
}

/** A received event's row as the gate makes it: `body` (text, or an object as JSON) from `username`, due now. */
export function newEventRow(username: string, body: string | Record<string, unknown>): NewEventRow {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  return receivedEventRow({
    requestId: randomUUID(),
    username,
    eventType: EVENT_TYPE,
    rawBody: raw,
    bodySha256: createHash('sha256').update(raw).digest('hex'),
    idempotencyKey: null,
    receivedAt: Date.now(),
  });
}
