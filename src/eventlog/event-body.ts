// How an event body is read — one definition for the gate, which stores the body as received,
// and for the worker, which parses what was stored. They must agree exactly, or an event the
// gate accepted could fail in the worker.
import { AppError } from '../core/errors.js';
import { describeJsonProblem, inspectJson } from '../core/json-shape.js';
import { fieldPath } from '../core/schema-errors.js';

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
  // U+0000 is valid text and stays the pipeline's business (the raw body keeps it escaped); lone
  // surrogates are not text at all, and absurd nesting would overflow recursive code.
  const problem = inspectJson(value, { allowNul: true });
  if (problem !== undefined) {
    throw new AppError('VALIDATION_FAILED', `Field '${fieldPath(problem.pointer) || 'body'}' ${describeJsonProblem(problem)}`);
  }
  return value as Record<string, unknown>;
}
