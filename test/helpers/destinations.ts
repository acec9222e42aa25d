// A destination for tests and benches: a webhook to `url` for chat summaries and lead saves,
// every dealer, a fresh secret, the default schedule; `overrides` changes what a test is about.

import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { generateSecret } from '../../src/delivery/signature.js';
import { type DestinationSpec, insertDestination } from '../../src/outbox/destination.repository.js';

export function destinationSpec(name: string, url: string, overrides: Partial<DestinationSpec> = {}): DestinationSpec {
  return {
    name,
    url,
    eventTypes: ['chat_summary.processed', 'lead.created'],
    dealers: '*',
    secret: generateSecret(),
    ordering: 'none',
    retrySchedule: null,
    rateLimit: null,
    enabled: true,
    ...overrides,
  };
}

/** Inserts destinationSpec(…) and returns it (its secret included). */
export async function addDestination(
  db: Kysely<Database>,
  name: string,
  url: string,
  overrides: Partial<DestinationSpec> = {},
): Promise<DestinationSpec> {
  const spec = destinationSpec(name, url, overrides);
  await insertDestination(db, spec, Date.now());
  return spec;
}
