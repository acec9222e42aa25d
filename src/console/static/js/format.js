// Dates, ages and counts as operators read them (local time, 24-hour clock).

const pad = (n) => String(n).padStart(2, '0');

/** 2026-11-22 20:16:55 (local time); '—' for null. */
export function dateTime(value) {
  if (value === null || value === undefined) return '—';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function clockTime(value) {
  const d = new Date(value);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function hourLabel(value) {
  return `${pad(new Date(value).getHours())}:00`;
}

/** 45 s, 12 min, 3 h 05 min, 2 d 4 h */
export function age(seconds) {
  if (seconds === null || seconds === undefined) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h ${pad(minutes % 60)} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export const count = (n) => new Intl.NumberFormat('en-US').format(n ?? 0);

export const pretty = (value) => JSON.stringify(value, null, 2);
