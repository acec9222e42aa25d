// Opaque page cursors: the key of the last row of a page, as base64url JSON. Clients pass them
// back untouched; anything that does not decode to the expected shape is a clear 400.
import { AppError } from '../core/errors.js';
import { inspectJson } from '../core/json-shape.js';

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** The key encoded by encodeCursor, checked against `shape` ('s' string, 'n' number). */
export function decodeCursor(cursor: string, shape: string): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  const fits =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((part, i) => (shape[i] === 'n' ? Number.isSafeInteger(part) : typeof part === 'string')) &&
    // A forged cursor must not carry U+0000 or a lone surrogate into a query (PostgreSQL text
    // cannot hold U+0000: that was a 500).
    inspectJson(key) === undefined;
  if (!fits) throw new AppError('VALIDATION_FAILED', 'cursor is not one this API returned');
  return key as (string | number)[];
}
