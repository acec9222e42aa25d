// Step 3: event_timestamp is epoch milliseconds (UTC); absent or null means "when we received it".
import type { EventError } from '../eventlog/event-codes.js';

/** 2000-01-01T00:00:00Z: anything earlier is a unit mistake (seconds instead of ms), not a chat. */
const EARLIEST = 946_684_800_000;
/** Clocks drift; a day ahead of our receipt time is the most we believe. */
const MAX_AHEAD_MS = 24 * 60 * 60 * 1000;

export function resolveEventTimestamp(value: unknown, receivedAt: number): { timestamp: number } | { error: EventError } {
  if (value === undefined || value === null) return { timestamp: receivedAt };
  const fail = (why: string) => ({ error: { errorCode: 'INVALID_EVENT_TIMESTAMP' as const, errorMessage: `event_timestamp ${why}` } });
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    return fail('must be an integer number of milliseconds since the Unix epoch');
  }
  if (value < EARLIEST) {
    const asSeconds = value * 1000;
    const plausibleSeconds = asSeconds >= EARLIEST && asSeconds <= receivedAt + MAX_AHEAD_MS;
    return fail(plausibleSeconds ? 'looks like seconds; milliseconds since the Unix epoch are required' : 'is before the year 2000');
  }
  if (value > receivedAt + MAX_AHEAD_MS) return fail('is more than a day after the event was received');
  return { timestamp: value };
}
