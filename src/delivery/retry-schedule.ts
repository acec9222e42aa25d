// When a failed delivery is tried again. The delays grow so a destination that is down for a
// deploy is retried within seconds, and one down for a day still gets its messages.

/**
 * Seconds to wait before each attempt: the first at once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h,
 * 10 h and 24 h. Nine attempts over 185,705 s, about 51.6 hours (2.1 days) before jitter; after
 * the last failure the message is a dead letter.
 */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [0, 5, 300, 1800, 7200, 18000, 36000, 36000, 86400];

// ±20 %: messages that failed together (a destination's outage) do not all come back together.
const JITTER = 0.2;
const MAX_ENTRIES = 20;
const MAX_DELAY_SECONDS = 604_800; // a week
const MAX_RETRY_AFTER_MS = 86_400_000; // a destination may slow us down, not park a message for weeks

/**
 * The delay before the next attempt once `attemptsMade` (≥ 1) have failed, in ms with jitter;
 * undefined when the schedule has no attempt left.
 */
export function nextAttemptDelayMs(
  schedule: readonly number[],
  attemptsMade: number,
  random: () => number = Math.random,
): number | undefined {
  if (!Number.isInteger(attemptsMade) || attemptsMade < 1) throw new RangeError(`attemptsMade must be an integer ≥ 1, not ${attemptsMade}`);
  const seconds = schedule[attemptsMade];
  if (seconds === undefined) return undefined;
  const unit = Math.min(1, Math.max(0, random())); // keeps the bounds whatever the source returns
  return Math.max(0, Math.round(seconds * 1000 * (1 + JITTER * (2 * unit - 1))));
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = `(?<month>${MONTHS.join('|')})`;
const TIME = '(?<hour>\\d{2}):(?<minute>\\d{2}):(?<second>\\d{2})';
// RFC 9110 §5.6.7: recipients accept IMF-fixdate and the two obsolete forms, all in GMT.
const HTTP_DATES = [
  new RegExp(`^${DAY}, (?<day>\\d{2}) ${MONTH} (?<year>\\d{4}) ${TIME} GMT$`), // Sun, 06 Nov 1994 08:49:37 GMT
  new RegExp(`^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (?<day>\\d{2})-${MONTH}-(?<year>\\d{2}) ${TIME} GMT$`), // Sunday, 06-Nov-94 08:49:37 GMT
  new RegExp(`^${DAY} ${MONTH} (?<day>[ \\d]\\d) ${TIME} (?<year>\\d{4})$`), // Sun Nov  6 08:49:37 1994
];

/** An HTTP-date as epoch ms, or undefined when it is not one (or not a real calendar instant). */
function parseHttpDate(value: string, now: number): number | undefined {
  const groups = HTTP_DATES.map((pattern) => pattern.exec(value)?.groups).find((g) => g !== undefined);
  if (groups === undefined) return undefined;
  const [day, hour, minute, second] = [groups.day, groups.hour, groups.minute, groups.second].map(Number) as [
    number,
    number,
    number,
    number,
  ];
  let year = Number(groups.year);
  if (groups.year?.length === 2) {
    // A two-digit year more than 50 years ahead is in the past century (RFC 9110).
    const thisYear = new Date(now).getUTCFullYear();
    year += Math.floor(thisYear / 100) * 100;
    if (year > thisYear + 50) year -= 100;
  }
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Date.UTC(year, MONTHS.indexOf(groups.month as string), day, hour, minute, second);
  // Date.UTC rolls 31 Feb over into March; such a date is malformed, not a later one.
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}

/** A Retry-After header (delta-seconds or HTTP-date) as ms from `now`, at most 24 h; undefined when absent or invalid. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Math.min(Number(value) * 1000, MAX_RETRY_AFTER_MS);
  const at = parseHttpDate(value, now);
  return at === undefined ? undefined : Math.min(Math.max(0, at - now), MAX_RETRY_AFTER_MS);
}

/** Why `schedule` is not a usable retry schedule, or undefined when it is. */
export function validateSchedule(schedule: unknown): string | undefined {
  if (!Array.isArray(schedule)) return 'the retry schedule must be an array of seconds';
  if (schedule.length === 0) return 'the retry schedule must have at least one entry';
  if (schedule.length > MAX_ENTRIES) return `the retry schedule may have at most ${MAX_ENTRIES} entries, not ${schedule.length}`;
  const bad = schedule.findIndex((entry) => !Number.isInteger(entry) || entry < 0 || entry > MAX_DELAY_SECONDS);
  if (bad !== -1) {
    return `the retry schedule's entry ${bad} (${JSON.stringify(schedule[bad])}) must be an integer from 0 to ${MAX_DELAY_SECONDS} seconds`;
  }
  return undefined;
}
