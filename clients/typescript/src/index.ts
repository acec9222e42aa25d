// A thin, typed client for the partner endpoints of dealer-gateway, over openapi-fetch and the
// types openapi-typescript generates from docs/openapi.json (src/schema.d.ts; `npm run
// client:generate` at the repository root rewrites it). Every method answers
// `{ data, error, status }`: `data` on 2xx, the endpoint's documented error envelope in `error`
// otherwise. It never throws on an HTTP error status, only when the request itself fails
// (network, DNS, TLS, an aborted request).
import createClient from 'openapi-fetch';
import type { operations, paths } from './schema.js';

export type { operations, paths } from './schema.js';

type JsonOf<Op, Status extends string | number> = Op extends { responses: Record<Status, { content: { 'application/json': infer T } }> }
  ? T
  : never;

/** The body of a 200 answer of an operation. */
export type SuccessBody<Name extends keyof operations> = JsonOf<operations[Name], 200>;
/** The error envelope of an operation (4xx; 5xx answers carry the same or the 5XX shape). */
export type ErrorBody<Name extends keyof operations> = JsonOf<operations[Name], '4XX'> | JsonOf<operations[Name], '5XX'>;

/** What every method answers. Exactly one of `data` and `error` is set. */
export interface ClientResult<Data, Error> {
  readonly data: Data | undefined;
  readonly error: Error | undefined;
  /** The HTTP status code. */
  readonly status: number;
}

type Result<Name extends keyof operations> = ClientResult<SuccessBody<Name>, ErrorBody<Name>>;

/** A lead, as `POST /leads/v2/dealer/{dealerUuid}` takes it. */
export type Lead = operations['postLeadsV2DealerDealerUuid']['requestBody']['content']['application/json'];
const EVENTS = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';
const DRY_RUN = `${EVENTS}/dry-run` as const;

/** The JSON request body an endpoint documents, read from the generated `paths`. */
type JsonRequestBody<Operation extends { requestBody?: unknown }> =
  NonNullable<Operation['requestBody']> extends {
    content: { 'application/json': infer Body };
  }
    ? Body
    : never;

/**
 * A chat summary event, as `POST …/vehicle-service-chat/v1` documents it: the canonical fields
 * are typed (and autocomplete), and any other field is allowed, since the gate takes any JSON
 * object (a partner's own shape, mapped by its integration's transform).
 */
export type ChatSummaryEvent = JsonRequestBody<paths[typeof EVENTS]['post']>;
/** The body of `POST …/vehicle-service-chat/v1/dry-run`: the same as a chat summary event. */
export type DryRunChatSummaryEvent = JsonRequestBody<paths[typeof DRY_RUN]['post']>;

export type SaveLeadResult = Result<'postLeadsV2DealerDealerUuid'>;
export type GetLeadResult = Result<'getLeadsV2DealerDealerUuidLeadProspectUuid'>;
export type SendChatSummaryResult = Result<'postServicePreDiagThirdPartyEventsVehicleServiceChatV1'>;
export type EventStatusResult = Result<'getServicePreDiagThirdPartyEventsVehicleServiceChatV1RequestId'>;
export type DryRunResult = Result<'postServicePreDiagThirdPartyEventsVehicleServiceChatV1DryRun'>;

export interface DealerGatewayClientOptions {
  /** The gateway's origin, e.g. `https://gateway.example.com` (no trailing path). */
  readonly baseUrl: string;
  readonly username: string;
  readonly password: string;
  /** A fetch implementation; defaults to the global one. */
  readonly fetch?: (input: Request) => Promise<Response>;
}

export interface SendChatSummaryOptions {
  /** Same key + same body from the same subscriber answers the original requestId. */
  readonly idempotencyKey?: string;
}

export interface DealerGatewayClient {
  /** `POST /leads/v2/dealer/{dealerUuid}`: creates or updates a lead (scope lead.write). */
  saveLead(dealerUuid: string, lead: Lead): Promise<SaveLeadResult>;
  /** `GET /leads/v2/dealer/{dealerUuid}/lead/{prospectUuid}` (scope lead.write or lead.read). */
  getLead(dealerUuid: string, prospectUuid: string): Promise<GetLeadResult>;
  /** `POST /service-pre-diag/third-party-events/vehicle-service-chat/v1`: `data.requestId` on acceptance. */
  sendChatSummary(event: ChatSummaryEvent, options?: SendChatSummaryOptions): Promise<SendChatSummaryResult>;
  /** `GET …/vehicle-service-chat/v1/{requestId}`: what became of an event this subscriber sent. */
  getEventStatus(requestId: string): Promise<EventStatusResult>;
  /** `POST …/vehicle-service-chat/v1/dry-run`: the outcome the event would get; stores nothing. */
  dryRunChatSummary(event: DryRunChatSummaryEvent): Promise<DryRunResult>;
}

/** `Basic base64(username:password)`, the username and password encoded as UTF-8. */
function basicAuthorization(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

function result<Data, Error>(answer: { data?: Data; error?: Error; response: Response }): ClientResult<Data, Error> {
  return { data: answer.data, error: answer.error, status: answer.response.status };
}

export function createDealerGatewayClient(options: DealerGatewayClientOptions): DealerGatewayClient {
  const client = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { Authorization: basicAuthorization(options.username, options.password) },
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
  });
  return {
    async saveLead(dealerUuid, lead) {
      return result(await client.POST('/leads/v2/dealer/{dealerUuid}', { params: { path: { dealerUuid } }, body: lead }));
    },
    async getLead(dealerUuid, prospectUuid) {
      return result(
        await client.GET('/leads/v2/dealer/{dealerUuid}/lead/{prospectUuid}', { params: { path: { dealerUuid, prospectUuid } } }),
      );
    },
    async sendChatSummary(event, sendOptions = {}) {
      const header = sendOptions.idempotencyKey === undefined ? undefined : { 'idempotency-key': sendOptions.idempotencyKey };
      return result(
        await client.POST(EVENTS, {
          params: header === undefined ? {} : { header },
          body: event,
          headers: { 'Content-Type': 'application/json' },
        }),
      );
    },
    async getEventStatus(requestId) {
      return result(await client.GET(`${EVENTS}/{requestId}`, { params: { path: { requestId } } }));
    },
    async dryRunChatSummary(event) {
      return result(await client.POST(DRY_RUN, { body: event, headers: { 'Content-Type': 'application/json' } }));
    },
  };
}
