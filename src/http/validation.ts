// Request validation: route JSON schemas compiled by Ajv. Bodies are validated strictly (no type
// coercion, nothing removed: a partner sending "year": "2019" where a number is due must hear so);
// path and query strings are coerced, because they only ever arrive as text.
import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { describeJsonProblem, inspectJson } from './json-shape.js';

/** `yyyy-MM-dd HH:mm:ss` followed by `Z` or a numeric offset (`+0530`, `+05:30`, `-08`). */
export const LEAD_DATETIME_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(Z|[+-]\d{2}(?::?\d{2})?)$/;

function isCalendarDate(year: number, month: number, day: number): boolean {
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

const FORMAT_RULES: Record<string, string> = {
  date: 'must be a calendar date in the format yyyy-MM-dd',
  'optional-date': 'must be a calendar date in the format yyyy-MM-dd (or empty)',
  'lead-datetime': 'must be a date-time in the format yyyy-MM-dd HH:mm:ssZ (Z or a numeric offset such as +05:30)',
  uuid: 'must be a UUID',
};

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, strict: false, ...options });
  addFormats.default(ajv, ['date', 'date-time', 'uuid', 'uri']);
  // The leads contract's template sends "" for optional fields it has no value for.
  ajv.addFormat('optional-date', {
    type: 'string',
    validate: (v: string) =>
      v === '' || (/^\d{4}-\d{2}-\d{2}$/.test(v) && isCalendarDate(...(v.split('-').map(Number) as [number, number, number]))),
  });
  ajv.addFormat('lead-datetime', { type: 'string', validate: (v: string) => parseLeadDateTime(v) !== undefined });
  return ajv;
}

export function createValidatorCompiler(): FastifySchemaCompiler<object> {
  const bodies = makeAjv({ coerceTypes: false, removeAdditional: false, useDefaults: false });
  const strings = makeAjv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true });
  return ({ schema, httpPart }) => {
    const validate = (httpPart === 'body' ? bodies : strings).compile(schema);
    // U+0000 and absurd nesting are refused in every input (a 400 naming the field) instead of
    // failing later in the database or in recursive code with a 500. See json-shape.ts.
    const checked = (data: unknown): boolean => {
      const problem = inspectJson(data);
      if (problem !== undefined) {
        checked.errors = [
          { keyword: 'json', instancePath: problem.pointer, schemaPath: '', params: {}, message: describeJsonProblem(problem) },
        ];
        return false;
      }
      const valid = validate(data);
      checked.errors = valid ? null : validate.errors;
      return valid;
    };
    checked.errors = null as ErrorObject[] | null | undefined;
    return checked;
  };
}

/** `/services/0/dueDate` → `services[0].dueDate` */
export function fieldPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').slice(1);
  if (child !== undefined) parts.push(child);
  return parts
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

/** One sentence naming the field and the rule it broke. */
export function describeValidationError(error: ErrorObject, root = 'body'): string {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `Field '${fieldPath(error.instancePath, String(params.missingProperty))}' is required`;
    case 'enum':
      return `Field '${fieldPath(error.instancePath)}' must be one of: ${(params.allowedValues as unknown[]).join(', ')}`;
    case 'type':
      return `Field '${fieldPath(error.instancePath) || root}' must be of type ${[params.type].flat().join(' or ')}`;
    case 'minLength':
      return `Field '${fieldPath(error.instancePath)}' must not be empty`;
    case 'maxLength':
      return `Field '${fieldPath(error.instancePath)}' must be at most ${String(params.limit)} characters long`;
    case 'minItems':
      return `Field '${fieldPath(error.instancePath)}' must contain at least ${String(params.limit)} item(s)`;
    case 'maxItems':
      return `Field '${fieldPath(error.instancePath)}' must contain at most ${String(params.limit)} item(s)`;
    case 'format': {
      const rule = FORMAT_RULES[String(params.format)] ?? `must match format ${String(params.format)}`;
      return `Field '${fieldPath(error.instancePath)}' ${rule}`;
    }
    case 'pattern':
      return `Field '${fieldPath(error.instancePath)}' must match the pattern ${String(params.pattern)}`;
    case 'additionalProperties':
      // Name the field the caller got wrong (a typo is the usual cause), not its parent.
      return `Field '${fieldPath(error.instancePath, String(params.additionalProperty))}' is not allowed here`;
    default:
      return `Field '${fieldPath(error.instancePath) || root}' ${error.message ?? 'is invalid'}`;
  }
}
