// What makes a destination acceptable, beyond its JSON shape: a URL the SSRF guard lets through,
// a Standard Webhooks secret, a sane retry schedule. One check for the admin API and for
// `apply`, so a destination refused by one is refused by the other, with the same words.
import type { DestinationFormat, DestinationKind, DestinationSpec, Ordering } from '../outbox/destination.repository.js';
import { ADF_TYPES, OUTBOUND_TYPES, type OutboundType } from '../outbox/outbound-types.js';
import { validateSchedule } from './retry-schedule.js';
import { generateSecret, isValidSecret } from './signature.js';
import { type AllowedNetworks, checkUrl } from './ssrf.js';

/** The JSON Schema of a destination's name. */
export const DESTINATION_NAME_SCHEMA = {
  type: 'string',
  pattern: '^[a-z0-9][a-z0-9._-]{0,62}$',
  description: 'Unique; lower-case letters, digits, `.`, `_`, `-`.',
} as const;

/** The JSON Schema of what an operator writes besides name and secret (admin API and provisioning file). */
export const DESTINATION_WRITABLE_PROPERTIES = {
  kind: {
    type: 'string',
    enum: ['webhook', 'pull', 'email'],
    description:
      '`webhook` (the default): messages are sent to `url`. `pull`: no `url`; the consumer reads them from `GET /feeds/v1/{name}` with the feed token shown once when the destination is created. `email`: no `url`; each message is mailed to `to` through SMTP_URL, its ADF document as the plain-text body (format `adf-xml`, lead types only).',
  },
  format: {
    type: 'string',
    enum: ['json', 'adf-xml'],
    description:
      '`json` (the default for webhook and pull): the envelope {type, timestamp, data}. `adf-xml` (the default, and the only format, for email): each lead as an ADF 1.0 document (`application/xml`), what dealer CRMs read; lead types only.',
  },
  to: {
    type: 'array',
    minItems: 1,
    maxItems: 20,
    uniqueItems: true,
    items: { type: 'string', minLength: 3, maxLength: 254, pattern: '^[^\\s@<>,;]+@[^\\s@<>,;]+$' },
    description: "Required for `email`, refused otherwise: the lead-intake addresses (e.g. the CRM's ADF inbox).",
  },
  url: {
    type: 'string',
    minLength: 1,
    maxLength: 2048,
    description:
      'Required for `webhook`, refused for `pull`. https:// or http://. Loopback, private, link-local and similar addresses are refused unless DELIVERY_ALLOW_PRIVATE_NETWORKS allows them.',
  },
  eventTypes: { type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', enum: [...OUTBOUND_TYPES] } },
  dealers: {
    description: '`"*"` for every dealer, or a list of dealer UUIDs.',
    anyOf: [
      { type: 'string', const: '*' },
      { type: 'array', uniqueItems: true, maxItems: 10_000, items: { type: 'string', minLength: 1, maxLength: 200 } },
    ],
  },
  ordering: {
    type: 'string',
    enum: ['none', 'per-dealer'],
    description:
      "`per-dealer`: one dealer's messages arrive in the order their outcomes were committed, retries included (a failing message holds the later ones of its dealer).",
  },
  retrySchedule: {
    type: ['array', 'null'],
    minItems: 1,
    maxItems: 20,
    items: { type: 'integer', minimum: 0, maximum: 604_800 },
    description:
      'Delays in seconds before each attempt. A message is due when written, so the first entry is read as 0; entry n is the wait after attempt n. As many attempts as entries. Null: the default schedule.',
  },
  rateLimit: { type: ['integer', 'null'], minimum: 1, maximum: 10_000, description: 'Requests per second at most.' },
  enabled: { type: 'boolean' },
} as const;

export const DESTINATION_SECRET_SCHEMA = {
  type: 'string',
  description: 'whsec_ + base64 of 24–64 random bytes; generated when omitted and shown once.',
} as const;

/** A destination as written by an operator (admin API body, provisioning file entry). */
export interface DestinationInput {
  readonly name: string;
  readonly kind?: DestinationKind;
  readonly url?: string;
  readonly format?: DestinationFormat;
  readonly to?: readonly string[];
  readonly eventTypes: readonly OutboundType[];
  readonly dealers?: '*' | readonly string[];
  readonly secret?: string;
  readonly ordering?: Ordering;
  readonly retrySchedule?: readonly number[] | null;
  readonly rateLimit?: number | null;
  readonly enabled?: boolean;
}

/** The spec to store, or the problems that refuse it (each names its field). */
export function destinationSpec(
  input: DestinationInput,
  allowed: AllowedNetworks,
  keepSecret?: string,
  /** An existing destination's state: `enabled` omitted keeps it (a disabled one stays disabled). */
  keepEnabled?: boolean,
): { ok: true; spec: DestinationSpec } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const kind = input.kind ?? 'webhook';
  const format = input.format ?? (kind === 'email' ? 'adf-xml' : 'json');
  if (kind === 'pull') {
    if (input.url !== undefined) problems.push('url: a pull destination has no url (its consumer reads GET /feeds/v1/{name})');
  } else if (kind === 'email') {
    if (input.url !== undefined) problems.push('url: an email destination has no url (its messages go to `to` through SMTP_URL)');
  } else if (input.url === undefined) {
    problems.push('url: required for a webhook destination');
  } else {
    const url = checkUrl(input.url, allowed);
    if (!url.ok) problems.push(`url: ${url.reason}`);
  }
  if (kind === 'email' && (input.to === undefined || input.to.length === 0)) problems.push('to: required for an email destination');
  if (kind !== 'email' && input.to !== undefined) problems.push(`to: only an email destination has recipients (this one is ${kind})`);
  if (kind === 'email' && format !== 'adf-xml') problems.push('format: an email destination sends ADF documents (adf-xml)');
  if (kind === 'pull' && format !== 'json') problems.push('format: a pull feed carries the JSON envelope (json)');
  const notLeads = input.eventTypes.filter((t) => !ADF_TYPES.includes(t));
  if (format === 'adf-xml' && notLeads.length > 0) {
    problems.push(`eventTypes: adf-xml carries leads only (lead.created, lead.updated), not ${notLeads.join(', ')}`);
  }
  if (input.secret !== undefined && !isValidSecret(input.secret)) {
    problems.push('secret: expected whsec_ followed by the base64 of 24 to 64 random bytes');
  }
  const scheduleProblem = input.retrySchedule == null ? undefined : validateSchedule(input.retrySchedule);
  if (scheduleProblem !== undefined) problems.push(`retrySchedule: ${scheduleProblem}`);
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      name: input.name,
      kind,
      url: kind === 'webhook' ? (input.url ?? null) : null,
      format,
      to: kind === 'email' ? (input.to ?? null) : null,
      eventTypes: input.eventTypes,
      dealers: input.dealers ?? '*',
      secret: input.secret ?? keepSecret ?? generateSecret(),
      ordering: input.ordering ?? 'none',
      retrySchedule: input.retrySchedule ?? null,
      rateLimit: input.rateLimit ?? null,
      enabled: input.enabled ?? keepEnabled ?? true,
    },
  };
}
