// Checks a provisioning document before anything is written: its shape (JSON Schema), then what a
// schema cannot say (no duplicates, every referenced dealer exists in the file or the database,
// a customer or vehicle never moves to another dealer). Every problem names its path.
import { Ajv, type ErrorObject } from 'ajv';
import type { Kysely } from 'kysely';
import { isPasswordHash } from '../auth/password.js';
import { fieldPath } from '../core/schema-errors.js';
import { queryInChunks } from '../db/chunks.js';
import type { Database } from '../db/schema.js';
import { destinationSpec } from '../delivery/destination.rules.js';
import { type AllowedNetworks, parseAllowedNetworks } from '../delivery/ssrf.js';
import { compilePartnerSchema, compileTransform } from '../pipeline/rules.js';
import { type ProvisioningFile, provisioningFileSchema } from './provisioning.schema.js';

export interface Problem {
  readonly path: string;
  readonly message: string;
}

export class ProvisioningError extends Error {
  override name = 'ProvisioningError';
  constructor(readonly problems: readonly Problem[]) {
    super(`provisioning file rejected:\n${problems.map((p) => `  ${p.path || '(root)'}: ${p.message}`).join('\n')}`);
  }
}

const ajv = new Ajv({ allErrors: true, strict: false });
const validateShape = ajv.compile(provisioningFileSchema);

function describe(error: ErrorObject): Problem {
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'required') {
    return { path: fieldPath(error.instancePath, String(params.missingProperty)), message: 'is required' };
  }
  if (error.keyword === 'additionalProperties') {
    return { path: fieldPath(error.instancePath, String(params.additionalProperty)), message: 'is not a known key' };
  }
  if (error.keyword === 'enum') {
    return { path: fieldPath(error.instancePath), message: `must be one of: ${(params.allowedValues as unknown[]).join(', ')}` };
  }
  if (error.keyword === 'oneOf' && error.instancePath.endsWith('/dealers')) {
    return { path: fieldPath(error.instancePath), message: 'must be "*" or a non-empty list of dealer UUIDs' };
  }
  return { path: fieldPath(error.instancePath), message: error.message ?? 'is invalid' };
}

function shapeProblems(errors: readonly ErrorObject[]): Problem[] {
  // oneOf reports each failed branch too; the oneOf summary says it better.
  const oneOfPaths = errors.filter((e) => e.keyword === 'oneOf').map((e) => e.instancePath);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of errors) {
    if (error.keyword !== 'oneOf' && oneOfPaths.some((p) => error.schemaPath.includes('/oneOf/') && error.instancePath.startsWith(p))) {
      continue;
    }
    const problem = describe(error);
    const key = `${problem.path}\0${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function duplicates<T>(items: readonly T[], keyOf: (item: T) => string, path: (i: number) => string, what: string): Problem[] {
  const first = new Map<string, number>();
  const problems: Problem[] = [];
  items.forEach((item, i) => {
    const key = keyOf(item);
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, i);
    else problems.push({ path: path(i), message: `duplicate ${what} "${key}" (also at index ${earlier})` });
  });
  return problems;
}

async function integrationProblems(db: Kysely<Database>, file: ProvisioningFile, knownDealers: Set<string>): Promise<Problem[]> {
  const integrations = file.integrations ?? [];
  if (integrations.length === 0) return [];
  const problems = duplicates(
    integrations,
    (x) => `${x.subscriber}/${x.eventType}`,
    (i) => `integrations[${i}]`,
    'integration (subscriber/eventType)',
  );
  const subscribers = new Set((file.subscribers ?? []).map((s) => s.username));
  const unlisted = [...new Set(integrations.map((x) => x.subscriber))].filter((u) => !subscribers.has(u));
  if (unlisted.length > 0) {
    const rows = await queryInChunks(unlisted, (chunk) =>
      db.selectFrom('subscribers').select('username').where('username', 'in', chunk).execute(),
    );
    for (const r of rows) subscribers.add(r.username);
  }
  const mapped = [...new Set(integrations.flatMap((x) => Object.values(x.dealerMap ?? {})))].filter((d) => !knownDealers.has(d));
  if (mapped.length > 0) {
    const rows = await queryInChunks(mapped, (chunk) => db.selectFrom('dealers').select('uuid').where('uuid', 'in', chunk).execute());
    for (const r of rows) knownDealers.add(r.uuid);
  }
  for (const [i, x] of integrations.entries()) {
    if (!subscribers.has(x.subscriber))
      problems.push({ path: `integrations[${i}].subscriber`, message: `unknown subscriber "${x.subscriber}"` });
    for (const [partnerId, dealer] of Object.entries(x.dealerMap ?? {})) {
      if (!knownDealers.has(dealer)) {
        problems.push({ path: `integrations[${i}].dealerMap.${partnerId}`, message: `unknown dealer "${dealer}"` });
      }
    }
    if (x.schema !== undefined && x.schema !== null) {
      try {
        compilePartnerSchema(x.schema);
      } catch (err) {
        problems.push({ path: `integrations[${i}].schema`, message: `is not a valid JSON Schema: ${(err as Error).message}` });
      }
    }
    if (typeof x.transform === 'string') {
      try {
        compileTransform(x.transform);
      } catch (err) {
        problems.push({ path: `integrations[${i}].transform`, message: `is not a valid JSONata expression: ${(err as Error).message}` });
      }
    }
  }
  return problems;
}

/** Parses and checks a document; throws ProvisioningError listing every problem found. */
/**
 * `allowed`: the networks destinations may reach although private (DELIVERY_ALLOW_PRIVATE_NETWORKS);
 * none when not given.
 */
export async function validateProvisioning(
  db: Kysely<Database>,
  doc: unknown,
  allowed: AllowedNetworks = parseAllowedNetworks(undefined),
): Promise<ProvisioningFile> {
  if (!validateShape(doc)) throw new ProvisioningError(shapeProblems(validateShape.errors ?? []));
  const file = doc as ProvisioningFile;
  const dealers = file.dealers ?? [];
  const subscribers = file.subscribers ?? [];
  const customers = file.customers ?? [];
  const vehicles = customers.flatMap((c, ci) => (c.vehicles ?? []).map((v, vi) => ({ v, ci, vi, dealer: c.dealer })));

  const problems: Problem[] = [
    ...duplicates(
      dealers,
      (d) => d.uuid,
      (i) => `dealers[${i}].uuid`,
      'dealer',
    ),
    ...duplicates(
      subscribers,
      (s) => s.username,
      (i) => `subscribers[${i}].username`,
      'subscriber',
    ),
    ...duplicates(
      customers,
      (c) => c.uuid,
      (i) => `customers[${i}].uuid`,
      'customer',
    ),
    ...duplicates(
      vehicles,
      (x) => x.v.uuid,
      (i) => `customers[${vehicles[i]?.ci}].vehicles[${vehicles[i]?.vi}].uuid`,
      'vehicle',
    ),
  ];

  subscribers.forEach((s, i) => {
    if ((s.password === undefined) === (s.passwordHash === undefined)) {
      problems.push({ path: `subscribers[${i}]`, message: 'give exactly one of "password" or "passwordHash"' });
    } else if (s.passwordHash !== undefined && !isPasswordHash(s.passwordHash)) {
      problems.push({
        path: `subscribers[${i}].passwordHash`,
        message: 'must be a scrypt hash "scrypt$N$r$p$salt$hash" (see `dealer-gateway hash-password`)',
      });
    }
  });

  // Every dealer referenced must exist after this apply: in the file or already in the database.
  const known = new Set(dealers.map((d) => d.uuid));
  const referenced = new Set<string>([
    ...customers.map((c) => c.dealer),
    ...subscribers.flatMap((s) => s.grants.flatMap((g) => (g.dealers === '*' ? [] : g.dealers))),
  ]);
  const missing = [...referenced].filter((uuid) => !known.has(uuid));
  if (missing.length > 0) {
    const rows = await queryInChunks(missing, (chunk) => db.selectFrom('dealers').select('uuid').where('uuid', 'in', chunk).execute());
    for (const r of rows) known.add(r.uuid);
  }
  for (const [si, s] of subscribers.entries()) {
    for (const [gi, g] of s.grants.entries()) {
      if (g.dealers === '*') continue;
      for (const [di, d] of g.dealers.entries()) {
        if (!known.has(d)) problems.push({ path: `subscribers[${si}].grants[${gi}].dealers[${di}]`, message: `unknown dealer "${d}"` });
      }
    }
  }
  customers.forEach((c, i) => {
    if (!known.has(c.dealer)) problems.push({ path: `customers[${i}].dealer`, message: `unknown dealer "${c.dealer}"` });
  });

  // Customers and vehicles belong to one dealer for good: leads and events are linked through them.
  if (customers.length > 0) {
    const existing = await queryInChunks(
      customers.map((c) => c.uuid),
      (chunk) => db.selectFrom('customers').select(['uuid', 'dealer_uuid']).where('uuid', 'in', chunk).execute(),
    );
    const owner = new Map(existing.map((r) => [r.uuid, r.dealer_uuid]));
    customers.forEach((c, i) => {
      const current = owner.get(c.uuid);
      if (current !== undefined && current !== c.dealer) {
        problems.push({ path: `customers[${i}].dealer`, message: `customer "${c.uuid}" already belongs to dealer "${current}"` });
      }
    });
  }
  if (vehicles.length > 0) {
    const existing = await queryInChunks(
      vehicles.map((x) => x.v.uuid),
      (chunk) => db.selectFrom('vehicles').select(['uuid', 'dealer_uuid']).where('uuid', 'in', chunk).execute(),
    );
    const owner = new Map(existing.map((r) => [r.uuid, r.dealer_uuid]));
    for (const x of vehicles) {
      const current = owner.get(x.v.uuid);
      if (current !== undefined && current !== x.dealer) {
        problems.push({
          path: `customers[${x.ci}].vehicles[${x.vi}].uuid`,
          message: `vehicle "${x.v.uuid}" already belongs to dealer "${current}"`,
        });
      }
    }
  }

  problems.push(...(await integrationProblems(db, file, known)));
  const destinations = file.destinations ?? [];
  problems.push(
    ...duplicates(
      destinations,
      (d) => d.name,
      (i) => `destinations[${i}].name`,
      'destination',
    ),
  );
  destinations.forEach((d, i) => {
    const checked = destinationSpec(d, allowed);
    if (!checked.ok) for (const message of checked.problems) problems.push({ path: `destinations[${i}]`, message });
  });

  if (problems.length > 0) throw new ProvisioningError(problems);
  return file;
}
