// An example of every successful answer, for the OpenAPI document: the demo data of
// examples/demo.json and the answers docs/api.md shows (dealer d-1, partner acme-ai, …).
import type { OperationKey } from './error-responses.js';
import { ROOT_DOCUMENT, rootPage } from './root.routes.js';

const CREATED = '2026-11-20T09:12:03.114Z';
const UPDATED = '2026-11-22T20:16:55.718Z';
const REQUEST_ID = '019ab0a3-5c1e-7a42-9f3d-2c6e8b1d4f70';
const PROSPECT = '6e172a59-0b6c-4f1e-9a51-3d2b7c8e9f10';
const VIN = '1HGCM82633A004352';

const dealer = { uuid: 'd-1', name: 'Test Imports LLC', createdAt: CREATED, updatedAt: UPDATED };
const customer = {
  uuid: 'c-1',
  dealerUuid: 'd-1',
  firstName: 'Dana',
  lastName: 'Reyes',
  email: 'dana.reyes@example.com',
  phone: '+1-555-0142',
  createdAt: CREATED,
  updatedAt: UPDATED,
};
const vehicle = {
  uuid: 'v-1',
  dealerUuid: 'd-1',
  customerUuid: 'c-1',
  vin: VIN,
  year: 2021,
  make: 'Honda',
  model: 'Accord',
  createdAt: CREATED,
  updatedAt: UPDATED,
};
const subscriber = {
  username: 'acme-ai',
  disabled: false,
  rateLimit: { requestsPerSecond: 5, burst: 10 },
  grants: [
    { scope: 'lead.write', dealers: ['d-1'] },
    { scope: 'spd.events.vehicleservicechat.write', dealers: ['d-1'] },
  ],
  createdAt: CREATED,
  updatedAt: UPDATED,
};
const integration = {
  subscriber: 'acme-ai',
  eventType: 'vehicle-service-chat',
  active: true,
  dealerIdField: 'dealer_uuid',
  dealerMap: { 'ACME-77': 'd-1' },
  schema: null,
  transform: null,
  createdAt: CREATED,
  updatedAt: UPDATED,
};
const canonical = {
  dealer_uuid: 'd-1',
  event_timestamp: 1795378615701,
  chat_code: 'CH-1001',
  vin: VIN,
  summary: 'Brake noise at low speed; customer asked for an inspection',
  escalation_flag: true,
};
const unknownFieldWarning = {
  warningCode: 'UNKNOWN_FIELD',
  warningMessage: "Field 'mood' is not part of the chat summary and was ignored",
};
const eventSummary = {
  requestId: REQUEST_ID,
  subscriber: 'acme-ai',
  eventType: 'vehicle-service-chat',
  status: 'PROCESSED',
  receivedAt: '2026-11-22T20:16:55.701Z',
  processedAt: UPDATED,
  attempts: 1,
  dealerUuid: 'd-1',
  errorCodes: [],
  warningCodes: ['UNKNOWN_FIELD'],
};
const { errorCodes: _errorCodes, warningCodes: _warningCodes, ...eventFields } = eventSummary;
const eventDetail = {
  ...eventFields,
  idempotencyKey: 'acme-7f3c2a',
  rawBody: JSON.stringify({ dealer_uuid: 'ACME-77', chat_code: 'CH-1001', vin: VIN, summary: canonical.summary, mood: 'calm' }),
  canonical,
  errors: [],
  warnings: [unknownFieldWarning],
  lastError: null,
  timeline: [{ attempt: 1, workerId: 'worker-1', at: UPDATED, outcome: 'PROCESSED', cause: null }],
};
const replayJob = {
  id: '019ab1c4-2d7e-7b10-8c3f-4e5a6b7c8d9e',
  filter: { status: ['REJECTED', 'FAILED'] },
  actor: 'admin-api',
  status: 'RUNNING',
  total: 12,
  replayed: 3,
  error: null,
  createdAt: UPDATED,
  finishedAt: null,
};
const leadBody = {
  customer: { uuid: 'c-1' },
  vehicle: { uuid: 'v-1', trackingId: '2-I509U2C', topic: 'WITH_CONTRACT', description: null },
  dealerDetails: { name: 'Test Imports LLC', code: 'TI-1', source: 'MMC' },
  services: [{ name: 'Maintenance - Service A', code: 'MBVANS-A', type: 'business', dueDate: '2023-06-01' }],
  campaign: { name: 'MBVANS', code: 'A' },
  status: 'NEW',
  lastContactDate: '2023-06-08 11:00:00Z',
  leadId: 'US000000111199002',
  webId: '2-39484871796',
  leadType: 'RECALL',
};
const lead = { prospectUuid: PROSPECT, dealerUuid: 'd-1', ...leadBody, saveCount: 1, createdAt: CREATED, updatedAt: CREATED };
const page = <T>(item: T) => ({ items: [item], nextCursor: 'WzE3OTUzNzg2MTU3MDEsIjAxOWFi' });
const hour = (start: string, received: number) => ({
  start,
  received,
  statuses: { RECEIVED: 0, PROCESSED: received - 1, REJECTED: 1, FAILED: 0 },
  leadsSaved: 2,
});
const session = { signedIn: true, via: 'session', expiresAt: '2026-11-23T04:16:55.000Z' };

/** The example of each operation's success answer, by operation. */
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const destination = {
  name: 'dms-acme',
  kind: 'webhook',
  format: 'json',
  to: null,
  url: 'https://dms.example.com/hooks/dealer-gateway',
  eventTypes: ['chat_summary.processed', 'lead.created', 'lead.updated'],
  dealers: '*',
  ordering: 'per-dealer',
  retrySchedule: null,
  rateLimit: null,
  enabled: true,
  disabledReason: null,
  previousSecretUntil: null,
  createdAt: CREATED,
  updatedAt: UPDATED,
  health: {
    state: 'healthy',
    failureStreak: 0,
    lastSuccessAt: UPDATED,
    lastFailureAt: null,
    breakerOpenUntil: null,
    waiting: 0,
    failed: 0,
    oldestWaitingAt: null,
  },
};
const message = {
  id: 'msg_2b1e0f6c9d8a4c7b8e5f3a2d1c0b9a87',
  destination: 'dms-acme',
  type: 'chat_summary.processed',
  dealerUuid: 'd-1',
  sourceId: REQUEST_ID,
  status: 'DELIVERED',
  attempts: 2,
  createdAt: UPDATED,
  nextAttemptAt: null,
  deliveredAt: '2026-11-22T20:17:10.842Z',
  lastError: null,
};

const FEED_TOKEN = 'dgf_q0P3kQ7wqJ0Yx6Zb1m9bVvR2c4d5e6f7g8h9i0j1k2l';
const pullDestination = { ...destination, name: 'dms-behind-firewall', kind: 'pull', url: null, ordering: 'none' };

/** An ADF document as the preview gives it (shortened: the comments hold every lead field). */
const ADF_EXAMPLE = `<?xml version="1.0"?>
<?adf version="1.0"?>
<adf>
  <prospect status="new">
    <id sequence="1" source="writer">US000000111199002</id>
    <id sequence="2" source="dealer-gateway">6e172a59-0b6c-4f1e-9a51-3d2b7c8e9f10</id>
    <requestdate>2026-11-22T20:06:14+00:00</requestdate>
    <vehicle interest="buy" status="used">
      <id source="dealer-gateway">v-1</id>
      <year>2019</year>
      <make>Honda</make>
      <model>Accord</model>
      <vin>1HGCM82633A004352</vin>
    </vehicle>
    <customer>
      <contact>
        <name part="first">Jane</name>
        <name part="last">Doe</name>
        <email>jane.doe@example.com</email>
      </contact>
      <id source="dealer-gateway">c-1</id>
      <comments>Lead type: RECALL
Status: NEW
Service: Maintenance - Service A (code MBVANS-A, type business, due 2023-06-01)</comments>
    </customer>
    <vendor>
      <id source="dealer-gateway">d-1</id>
      <vendorname>Test Imports LLC</vendorname>
      <contact>
        <name part="full" type="business">Test Imports LLC</name>
      </contact>
    </vendor>
    <provider>
      <name part="full" type="business">writer</name>
      <service>MMC; campaign: MBVANS (code A)</service>
    </provider>
  </prospect>
</adf>`;

export const SUCCESS_EXAMPLES: Readonly<Record<OperationKey, unknown>> = {
  'GET /': ROOT_DOCUMENT,
  'GET /metrics':
    '# HELP http_requests_total HTTP requests answered, by route and status\n# TYPE http_requests_total counter\nhttp_requests_total{method="POST",route="/leads/v2/dealer/:dealerUuid",status="200"} 42\n',
  'GET /healthz': { status: 'ok' },
  'GET /readyz': { status: 'ready' },

  'POST /leads/v2/dealer/{dealerUuid}': { error: null, isNewCreated: true, prospectUuid: PROSPECT, statusCode: 200, warnings: [] },
  'GET /leads/v2/dealer/{dealerUuid}/lead/{prospectUuid}': { error: null, statusCode: 200, warnings: [], lead },
  'POST /service-pre-diag/third-party-events/vehicle-service-chat/v1': { errors: [], warnings: [], requestId: REQUEST_ID },
  'POST /service-pre-diag/third-party-events/vehicle-service-chat/v1/dry-run': {
    errors: [],
    warnings: [],
    requestId: null,
    dryRun: {
      status: 'REJECTED',
      dealerUuid: null,
      canonical: null,
      errors: [
        {
          errorCode: 'DEALER_NOT_MAPPED',
          errorMessage: "Dealer identifier 'ACME-99' (field 'dealer_uuid') is neither a known dealer UUID nor mapped by the integration",
        },
      ],
      warnings: [],
    },
  },
  'GET /service-pre-diag/third-party-events/vehicle-service-chat/v1/{requestId}': {
    requestId: REQUEST_ID,
    status: 'PROCESSED',
    receivedAt: '2026-11-22T20:16:55.701Z',
    processedAt: UPDATED,
    errors: [],
    warnings: [unknownFieldWarning],
    event: canonical,
  },

  'GET /feeds/v1/{destination}': {
    items: [
      {
        id: message.id,
        type: 'lead.created',
        createdAt: UPDATED,
        payload: { type: 'lead.created', timestamp: UPDATED, data: { prospectUuid: PROSPECT, saveCount: 1 } },
        signature: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
        timestamp: 1795378615,
      },
    ],
    nextCursor: '1043',
  },

  'GET /admin/v1/events': page(eventSummary),
  'GET /admin/v1/events/{requestId}': eventDetail,
  'POST /admin/v1/events/{requestId}/replay': {
    ...eventDetail,
    status: 'RECEIVED',
    processedAt: null,
    timeline: [
      ...eventDetail.timeline,
      { attempt: 1, workerId: null, at: '2026-11-23T08:00:00.000Z', outcome: 'REPLAYED', cause: 'admin-api' },
    ],
  },
  'POST /admin/v1/replays': replayJob,
  'GET /admin/v1/replays/{id}': { ...replayJob, status: 'DONE', replayed: 12, finishedAt: '2026-11-22T20:17:02.310Z' },
  'GET /admin/v1/dealers': page(dealer),
  'POST /admin/v1/dealers': { ...dealer, updatedAt: CREATED },
  'GET /admin/v1/dealers/{uuid}': dealer,
  'PATCH /admin/v1/dealers/{uuid}': dealer,
  'GET /admin/v1/dealers/{dealerUuid}/customers': page(customer),
  'POST /admin/v1/dealers/{dealerUuid}/customers': { ...customer, updatedAt: CREATED },
  'PATCH /admin/v1/customers/{uuid}': customer,
  'GET /admin/v1/dealers/{dealerUuid}/vehicles': page(vehicle),
  'POST /admin/v1/customers/{customerUuid}/vehicles': { ...vehicle, updatedAt: CREATED },
  'PATCH /admin/v1/vehicles/{uuid}': vehicle,
  'GET /admin/v1/subscribers': page(subscriber),
  'POST /admin/v1/subscribers': {
    username: 'newpartner',
    disabled: false,
    rateLimit: null,
    grants: [{ scope: 'lead.write', dealers: ['d-1'] }],
    createdAt: CREATED,
    updatedAt: CREATED,
  },
  'GET /admin/v1/subscribers/{username}': subscriber,
  'POST /admin/v1/subscribers/{username}/password': subscriber,
  'PUT /admin/v1/subscribers/{username}/rate-limit': subscriber,
  'POST /admin/v1/subscribers/{username}/disable': { ...subscriber, disabled: true },
  'POST /admin/v1/subscribers/{username}/enable': subscriber,
  'PUT /admin/v1/subscribers/{username}/grants': subscriber,
  'GET /admin/v1/integrations': page({
    ...integration,
    lastEvent: {
      requestId: REQUEST_ID,
      receivedAt: eventSummary.receivedAt,
      status: 'PROCESSED',
      processedAt: UPDATED,
      errorCodes: [],
    },
  }),
  'POST /admin/v1/integrations': { ...integration, updatedAt: CREATED },
  'GET /admin/v1/integrations/{subscriber}/{eventType}': integration,
  'PATCH /admin/v1/integrations/{subscriber}/{eventType}': integration,
  'GET /admin/v1/audit': page({
    id: 42,
    at: UPDATED,
    actor: 'admin-api',
    action: 'update',
    entity: 'dealer',
    key: 'd-1',
    before: { uuid: 'd-1', name: 'Test Imports', created_at: CREATED, updated_at: CREATED },
    after: { uuid: 'd-1', name: 'Test Imports LLC', created_at: CREATED, updated_at: UPDATED },
  }),
  'GET /admin/v1/dealers/{dealerUuid}/chat-summaries': page({
    requestId: REQUEST_ID,
    dealerUuid: 'd-1',
    vehicleUuid: 'v-1',
    customerUuid: 'c-1',
    vin: VIN,
    chatCode: 'CH-1001',
    eventTimestamp: '2026-11-22T20:16:55.701Z',
    escalated: true,
    record: canonical,
    createdAt: UPDATED,
    updatedAt: UPDATED,
  }),
  'GET /admin/v1/dealers/{dealerUuid}/leads': page({
    prospectUuid: PROSPECT,
    leadId: 'US000000111199002',
    webId: '2-39484871796',
    customerUuid: 'c-1',
    customerName: 'Dana Reyes',
    vehicleUuid: 'v-1',
    vin: VIN,
    source: 'MMC',
    status: 'NEW',
    leadType: 'RECALL',
    lastContactAt: '2023-06-08T11:00:00.000Z',
    saveCount: 1,
    createdAt: CREATED,
    updatedAt: CREATED,
  }),
  'GET /admin/v1/dealers/{dealerUuid}/leads/{prospectUuid}': lead,
  'GET /admin/v1/dealers/{dealerUuid}/leads/{prospectUuid}/adf': ADF_EXAMPLE,
  'POST /admin/v1/integrations/{subscriber}/{eventType}/dry-run': {
    status: 'PROCESSED',
    dealerUuid: 'd-1',
    canonical,
    errors: [],
    warnings: [unknownFieldWarning],
    diff: {
      statusChanged: false,
      before: { status: 'PROCESSED', errors: [], warnings: [unknownFieldWarning], canonical },
      after: { status: 'PROCESSED', errors: [], warnings: [unknownFieldWarning], canonical },
      changedFields: [],
    },
  },
  'GET /admin/v1/stats': {
    generatedAt: '2026-11-22T20:30:00.000Z',
    since: '2026-11-21T21:00:00.000Z',
    hours: [hour('2026-11-22T19:00:00.000Z', 118), hour('2026-11-22T20:00:00.000Z', 57)],
    totals: { received: 175, statuses: { RECEIVED: 0, PROCESSED: 173, REJECTED: 2, FAILED: 0 }, leadsSaved: 4, rejections: 3 },
    backlog: { events: 0, oldestReceivedAt: null, oldestAgeSeconds: null },
    topRejections: [{ subscriber: 'acme-ai', errorCode: 'DEALER_NOT_MAPPED', count: 3 }],
  },

  'GET /admin/v1/destinations': { items: [destination] },
  'POST /admin/v1/destinations': { ...destination, secret: SECRET },
  'GET /admin/v1/destinations/{name}': destination,
  'PUT /admin/v1/destinations/{name}': destination,
  'DELETE /admin/v1/destinations/{name}': null,
  'POST /admin/v1/destinations/{name}/enable': destination,
  'POST /admin/v1/destinations/{name}/disable': {
    ...destination,
    enabled: false,
    disabledReason: 'disabled by an operator',
    health: { ...destination.health, state: 'disabled' },
  },
  'POST /admin/v1/destinations/{name}/rotate-secret': { ...destination, secret: SECRET, previousSecretUntil: '2026-11-23T20:16:55.718Z' },
  'POST /admin/v1/destinations/{name}/rotate-feed-token': { ...pullDestination, feedToken: FEED_TOKEN },
  'POST /admin/v1/destinations/{name}/test': { delivered: true, statusCode: 204, error: null, durationMs: 38, responseBody: '' },
  'POST /admin/v1/destinations/{name}/recover': { retried: 17 },
  'GET /admin/v1/messages': { items: [message], nextCursor: '1042' },
  'GET /admin/v1/messages/{id}': {
    ...message,
    payload: {
      type: 'chat_summary.processed',
      timestamp: UPDATED,
      data: { requestId: REQUEST_ID, partner: 'acme-chat', dealerUuid: 'd-1' },
    },
    attemptLog: [
      {
        attempt: 1,
        at: UPDATED,
        durationMs: 15_002,
        statusCode: null,
        responseHeaders: null,
        responseBody: null,
        error: 'timeout: no complete answer within 15000 ms',
      },
      {
        attempt: 2,
        at: '2026-11-22T20:17:10.801Z',
        durationMs: 41,
        statusCode: 204,
        responseHeaders: { date: 'Sun, 22 Nov 2026 20:17:10 GMT' },
        responseBody: '',
        error: null,
      },
    ],
  },
  'POST /admin/v1/messages/{id}/retry': { ...message, status: 'PENDING', attempts: 0, deliveredAt: null, nextAttemptAt: UPDATED },
  'POST /admin/v1/messages/retry': { retried: 3 },
  'POST /console/session': session,
  'GET /console/session': session,
  'DELETE /console/session': null,
};

/** The example of a success answer in another media type than the one above, by operation and type. */
export const MEDIA_EXAMPLES: Partial<Readonly<Record<OperationKey, Readonly<Record<string, unknown>>>>> = {
  'GET /': { 'text/html': rootPage() },
  'GET /admin/v1/dealers/{dealerUuid}/leads/{prospectUuid}/adf': { 'application/xml': ADF_EXAMPLE },
};
