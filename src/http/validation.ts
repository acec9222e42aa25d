// Request validation: route JSON schemas compiled by Ajv. Bodies are validated strictly (no type
// coercion, nothing removed: a partner sending "year": "2019" where a number is due must hear so);
// path and query strings are coerced, because they only ever arrive as text.
import { Ajv, type ErrorObject, type Options } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';
import { isCalendarDate, parseLeadDateTime } from '../core/datetime.js';
import { describeJsonProblem, inspectJson } from '../core/json-shape.js';

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
