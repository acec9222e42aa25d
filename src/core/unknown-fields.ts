// Lists the fields of a validated body that its schema does not name, so the service can ignore
// them and say so in a warning instead of rejecting a partner who sends a little extra.

interface ObjectSchema {
  type?: unknown;
  properties?: Record<string, unknown>;
  items?: unknown;
}

export function unknownFields(schema: unknown, value: unknown, path = ''): string[] {
  const s = schema as ObjectSchema;
  if (Array.isArray(value)) {
    return s.items ? value.flatMap((item, i) => unknownFields(s.items, item, `${path}[${i}]`)) : [];
  }
  if (value === null || typeof value !== 'object' || !s.properties) return [];
  const found: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childPath = path ? `${path}.${key}` : key;
    const childSchema = Object.hasOwn(s.properties, key) ? s.properties[key] : undefined;
    if (childSchema === undefined) found.push(childPath);
    else found.push(...unknownFields(childSchema, child, childPath));
  }
  return found;
}

/** A partner may send any number of extra fields; the answer names this many, then counts the rest. */
const MAX_UNKNOWN_FIELD_WARNINGS = 20;

/** One warning message per unknown field, at most MAX_UNKNOWN_FIELD_WARNINGS, then a summary. */
export function unknownFieldMessages(paths: readonly string[], ignoredBy: string): string[] {
  const messages = paths.slice(0, MAX_UNKNOWN_FIELD_WARNINGS).map((path) => `Field '${path}' is not part of ${ignoredBy} and was ignored`);
  if (paths.length > MAX_UNKNOWN_FIELD_WARNINGS) {
    messages.push(`${paths.length - MAX_UNKNOWN_FIELD_WARNINGS} more unknown fields were ignored`);
  }
  return messages;
}
