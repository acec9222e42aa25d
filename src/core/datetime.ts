// The partner contracts' date-time: `yyyy-MM-dd HH:mm:ss` with `Z` or a numeric offset, used by
// the leads contract's lastContactDate and by chat summaries' event_timestamp.

/** `yyyy-MM-dd HH:mm:ss` followed by `Z` or a numeric offset (`+0530`, `+05:30`, `-08`). */
const LEAD_DATETIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}(?::?\d{2})?)$/;

export function isCalendarDate(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** 10000-01-01T00:00:00Z: the first instant whose UTC year has five digits. */
const MAX_LEAD_INSTANT = Date.UTC(10_000, 0, 1);

/** Parses a lead date-time into epoch ms, or undefined if it is not a real instant. */
export function parseLeadDateTime(value: string): number | undefined {
  const m = LEAD_DATETIME_PATTERN.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  if (!isCalendarDate(year, month, day) || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = m[7] as string;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (oh > 18 || om > 59) return undefined;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const epochMs = Date.UTC(year, month - 1, day, hour, minute, second) - offsetMinutes * 60_000;
  // The instant is returned as yyyy-MM-dd… in UTC: "9999-12-31 23:59:59-14:00" is in year 10000
  // there, which that format cannot write (it was read back as "+010000-01-01 13:59Z").
  return epochMs < MAX_LEAD_INSTANT ? epochMs : undefined;
}

/** Formats an instant the way the leads contract writes it: `yyyy-MM-dd HH:mm:ssZ`, in UTC. */
export function formatLeadDateTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}
