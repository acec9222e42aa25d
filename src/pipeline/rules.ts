// Compiles an integration's partner rules — the JSON Schema for the raw body and the JSONata
// transformation — once per distinct text, for both `apply` (to reject bad rules up front) and
// the worker (to run them). Compiled rules are cached by their source text.
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import jsonata from 'jsonata';

// One Ajv instance per schema: Ajv registers every schema it compiles by its $id, so a shared
// instance would refuse a changed schema that keeps its $id, or resolve $refs against the old one.
function newPartnerAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats.default(ajv);
  return ajv;
}

const MAX_CACHED = 500;

/**
 * An expression that loops or recurses without end fails (TRANSFORM_FAILED) instead of stalling
 * the worker: JSONata checks these bounds at every evaluation step. A real transformation of a
 * 1 MiB chat takes milliseconds; 500 ms is a generous ceiling that still bounds the damage.
 */
const TRANSFORM_GUARDRAILS = { timeout: 500, stack: 1000 };
const schemas = new Map<string, ValidateFunction>();
const transforms = new Map<string, jsonata.Expression>();

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const value = make();
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, value);
  return value;
}

// The directory hands out the same schema object until provisioning changes it: remembering
// the compiled validator per object skips serializing the schema for every event.
const schemasByObject = new WeakMap<object, ValidateFunction>();

/** Compiles a partner JSON Schema; throws an Error with Ajv's message when it is not valid. */
export function compilePartnerSchema(schema: object | boolean): ValidateFunction {
  if (typeof schema === 'object') {
    const known = schemasByObject.get(schema);
    if (known) return known;
  }
  const validate = remember(schemas, JSON.stringify(schema), () => newPartnerAjv().compile(schema));
  if (typeof schema === 'object') schemasByObject.set(schema, validate);
  return validate;
}

/** Compiles a JSONata expression; throws an Error naming the position when it does not parse. */
export function compileTransform(expression: string): jsonata.Expression {
  return remember(transforms, expression, () => {
    try {
      return jsonata(expression, TRANSFORM_GUARDRAILS);
    } catch (err) {
      const e = err as { message?: string; position?: number; token?: string };
      const where = e.position !== undefined ? ` at position ${e.position}` : '';
      throw new Error(`${e.message ?? 'invalid expression'}${where}`);
    }
  });
}
