// Step 2: which of our dealers an event belongs to. The integration names the field holding the
// partner's dealer identifier (a dotted path into the canonical record); a value that is one of
// our dealer UUIDs is used as is, otherwise the integration's dealer map translates it.
import type { Integration } from '../auth/directory.js';
import type { EventError } from '../eventlog/event-codes.js';

export const DEFAULT_DEALER_ID_FIELD = 'dealer_uuid';

/** Reads `a.b.c` from an object; undefined when any step is missing. */
function readPath(value: unknown, path: string): unknown {
  let current: unknown = value;
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

export type DealerResolution = { readonly dealerUuid: string } | { readonly error: EventError };

export function resolveDealer(
  record: Record<string, unknown>,
  integration: Pick<Integration, 'dealerIdField' | 'dealerMap'>,
  isKnownDealer: (uuid: string) => boolean,
): DealerResolution {
  const field = integration.dealerIdField;
  const raw = readPath(record, field);
  if (raw === undefined || raw === null || raw === '') {
    return { error: { errorCode: 'DEALER_ID_MISSING', errorMessage: `The dealer identifier field '${field}' is missing` } };
  }
  if (typeof raw !== 'string' && typeof raw !== 'number') {
    return {
      error: { errorCode: 'DEALER_ID_MISSING', errorMessage: `The dealer identifier field '${field}' must be a string or a number` },
    };
  }
  const partnerId = String(raw);
  if (isKnownDealer(partnerId)) return { dealerUuid: partnerId };
  const mapped = Object.hasOwn(integration.dealerMap, partnerId) ? integration.dealerMap[partnerId] : undefined;
  if (mapped !== undefined && isKnownDealer(mapped)) return { dealerUuid: mapped };
  return {
    error: {
      errorCode: 'DEALER_NOT_MAPPED',
      errorMessage: `Dealer identifier '${partnerId}' (field '${field}') is neither a known dealer UUID nor mapped by the integration`,
    },
  };
}
