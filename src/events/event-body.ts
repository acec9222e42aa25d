// How an event body is read — one definition for the gate, which stores the body as received,
// and for the worker, which parses what was stored. They must agree exactly, or an event the
// gate accepted could fail in the worker.
import { AppError } from '../errors.js';
import { inspectJson, MAX_JSON_DEPTH } from '../http/json-shape.js';

// ignoreBOM keeps a byte-order mark in the text (as stored); parseEventText skips exactly one.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The stored form of a body: its UTF-8 text, byte for byte. */
export function decodeEventBody(body: Buffer): string {
  try {
    return utf8.decode(body);
  } catch {
    throw new AppError('INVALID_JSON', 'Request body is not valid UTF-8');
  }
}

/** Parses stored event text (one leading byte-order mark is allowed, as RFC 8259 permits). */
export function parseEventText(text: string): unknown {
  return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
}

/** The gate's checks: a JSON object, not nested absurdly deep. Returns it parsed. */
export function parseEventBody(text: string): Record<string, unknown> {
  if (text.replace(/^\uFEFF/, '').trim() === '') {
    throw new AppError('INVALID_JSON', 'Request body is empty; a JSON object is required');
  }
  let value: unknown;
  try {
    value = parseEventText(text);
  } catch (err) {
    throw new AppError('INVALID_JSON', `Request body is not valid JSON: ${(err as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    throw new AppError('BODY_NOT_OBJECT', `Request body must be a JSON object, got ${kind}`);
  }
  if (inspectJson(value)?.kind === 'depth') {
    throw new AppError('VALIDATION_FAILED', `Request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
  }
  return value as Record<string, unknown>;
}
