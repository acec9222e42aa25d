// What makes a destination acceptable, beyond its JSON shape: a URL the SSRF guard lets through,
// a Standard Webhooks secret, a sane retry schedule. One check for the admin API and for
// `apply`, so a destination refused by one is refused by the other, with the same words.
import type { DestinationSpec, Ordering } from '../outbox/destination.repository.js';
import type { OutboundType } from '../outbox/outbound-types.js';
import { validateSchedule } from './retry-schedule.js';
import { generateSecret, isValidSecret } from './signature.js';
import { type AllowedNetworks, checkUrl } from './ssrf.js';

/** A destination as written by an operator (admin API body, provisioning file entry). */
export interface DestinationInput {
  readonly name: string;
  readonly url: string;
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
): { ok: true; spec: DestinationSpec } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const url = checkUrl(input.url, allowed);
  if (!url.ok) problems.push(`url: ${url.reason}`);
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
      url: input.url,
      eventTypes: input.eventTypes,
      dealers: input.dealers ?? '*',
      secret: input.secret ?? keepSecret ?? generateSecret(),
      ordering: input.ordering ?? 'none',
      retrySchedule: input.retrySchedule ?? null,
      rateLimit: input.rateLimit ?? null,
      enabled: input.enabled ?? true,
    },
  };
}
