// Ajv's errors in one sentence each, naming the field as a partner writes it. Used for request
// bodies (the HTTP layer) and for partner schemas (the pipeline), so both read alike.
import type { ErrorObject } from 'ajv';

const FORMAT_RULES: Record<string, string> = {
  date: 'must be a calendar date in the format yyyy-MM-dd',
  'optional-date': 'must be a calendar date in the format yyyy-MM-dd (or empty)',
  'lead-datetime': 'must be a date-time in the format yyyy-MM-dd HH:mm:ssZ (Z or a numeric offset such as +05:30)',
  uuid: 'must be a UUID',
};

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
