// docs/api.md states every limit the partner endpoints' schemas enforce: each maxLength,
// maxItems and pattern of a request body or path parameter in docs/openapi.json (the document
// the app serves, kept in step with the schemas by test/http/openapi.test.ts) must appear on a
// line of docs/api.md that names the field. And the header-size limit is counted the way the
// docs say: the URL plus header names and values, not the bytes on the wire.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { rawExchange } from '../helpers/raw-http.js';

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
const operations = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
const openapi = JSON.parse(readFileSync(new URL('../../docs/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
};

interface Schema {
  readonly type?: string | readonly string[];
  readonly properties?: Record<string, Schema>;
  readonly items?: Schema;
  readonly maxLength?: number;
  readonly maxItems?: number;
  readonly pattern?: string;
}
interface Operation {
  readonly parameters?: readonly { readonly name: string; readonly in: string; readonly schema?: Schema }[];
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: Schema }> };
}

interface Limit {
  /** Where: `POST /leads/v2/dealer/{dealerUuid}`. */
  readonly operation: string;
  /** The field as docs/api.md names it: `services[].name`, `dealerUuid`. */
  readonly field: string;
  readonly rule: 'maxLength' | 'maxItems' | 'pattern';
  readonly value: string;
}

/** The partner endpoints: what docs/api.md documents field by field. */
const PARTNER_PATHS = /^\/(leads|service-pre-diag)\//;

function limitsOf(operation: string, field: string, schema: Schema | undefined, out: Limit[]): void {
  if (schema === undefined) return;
  for (const rule of ['maxLength', 'maxItems', 'pattern'] as const) {
    const value = schema[rule];
    if (value !== undefined) out.push({ operation, field, rule, value: String(value) });
  }
  for (const [name, property] of Object.entries(schema.properties ?? {})) {
    limitsOf(operation, field === '' ? name : `${field}.${name}`, property, out);
  }
  if (schema.items !== undefined) limitsOf(operation, `${field}[]`, schema.items, out);
}

function partnerLimits(): Limit[] {
  const limits: Limit[] = [];
  for (const [path, methods] of Object.entries(openapi.paths)) {
    if (!PARTNER_PATHS.test(path)) continue;
    for (const [method, op] of Object.entries(methods)) {
      const operation = `${method.toUpperCase()} ${path}`;
      for (const parameter of op.parameters ?? []) limitsOf(operation, parameter.name, parameter.schema, limits);
      for (const content of Object.values(op.requestBody?.content ?? {})) limitsOf(operation, '', content.schema, limits);
    }
  }
  return limits;
}

/** "100,000" and "100 000" read as 100000. */
const plainNumbers = (line: string) => line.replace(/(\d)[,\u00a0\u202f ](?=\d{3}\b)/g, '$1');

/** The lines of docs/api.md naming `field` (an array may be named `field` or `field[]`). */
function linesNaming(field: string): string[] {
  const names = [field, ...(field.endsWith('[]') ? [] : [`${field}[]`])];
  return doc.split('\n').filter((line) => names.some((name) => line.includes(`\`${name}\``)));
}

function stated(limit: Limit): boolean {
  return linesNaming(limit.field).some((line) =>
    limit.rule === 'pattern' ? line.includes(limit.value) : new RegExp(`(?<![\\d.])${limit.value}(?![\\d.])`).test(plainNumbers(line)),
  );
}

test('the limits are read from the partner operations of docs/openapi.json', () => {
  const found = partnerLimits().map((l) => `${l.field} ${l.rule} ${l.value}`);
  for (const expected of [
    'customer.uuid maxLength 64',
    'services maxItems 200',
    'services[].name maxLength 255',
    'campaign.code maxLength 255',
    'dealerUuid maxLength 64',
    'prospectUuid maxLength 64',
    'requestId maxLength 64',
    'line_items maxItems 1000',
    'media[].url pattern ^https?://',
  ]) {
    assert.ok(found.includes(expected), `"${expected}" not found among ${found.length} limits: extend this test's walk of the schemas`);
  }
});

test('docs/api.md states every maxLength, maxItems and pattern of the partner endpoints, on a line naming the field', () => {
  const missing = new Set<string>();
  for (const limit of partnerLimits()) {
    if (!stated(limit)) missing.add(`${limit.field}: ${limit.rule} ${limit.value} (${limit.operation})`);
  }
  assert.deepEqual([...missing], [], 'docs/api.md does not state these limits next to the field');
});

// ---------------------------------------------------------------------------------------------
// The header-size limit, as docs/api.md ("HEADERS_TOO_LARGE") and docs/operations.md ("Limits
// and timeouts") describe it.

/** A GET whose URL plus header names and values count `counted` bytes, in `headers` headers. */
function requestCounting(counted: number, headers: number): string {
  const url = '/healthz';
  const fixed = [
    ['Host', 'x'],
    ['Connection', 'close'],
  ];
  let budget = counted - url.length - fixed.reduce((n, [name, value]) => n + `${name}${value}`.length, 0);
  const lines = fixed.map(([name, value]) => `${name}: ${value}`);
  for (let i = 0; i < headers; i++) {
    const name = `X-Pad-${String(i).padStart(4, '0')}`;
    const share = Math.floor(budget / (headers - i));
    const value = 'v'.repeat(share - name.length);
    budget -= name.length + value.length;
    lines.push(`${name}: ${value}`);
  }
  assert.equal(budget, 0);
  return `GET ${url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`;
}

describe('the header-size limit, counted as documented [sqlite]', () => {
  let tdb: TestDatabase;
  let app: FastifyInstance;
  let port: number;
  before(async () => {
    tdb = await createTestDatabase('sqlite');
    app = await buildApp(tdb.config, { db: tdb.db, logger: false });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  after(async () => {
    await app?.close();
    await tdb?.destroy();
  });

  test('the docs say how it is counted', () => {
    for (const [name, text] of [
      ['docs/api.md', doc],
      ['docs/operations.md', operations],
    ] as const) {
      assert.ok(/16,?384 bytes/.test(text), `${name} gives the limit in bytes`);
      assert.ok(/URL plus .*header names? and values?/.test(text), `${name} says the URL and the header names and values count`);
      assert.ok(/not the method, the HTTP version/.test(text), `${name} says what is not counted`);
    }
  });

  test('the URL plus header names and values may count 16383 bytes; 16384 is 431', async () => {
    assert.equal((await rawExchange(port, requestCounting(16_383, 1))).status, 200);
    assert.equal((await rawExchange(port, requestCounting(16_384, 1))).status, 431);
  });

  test('separators and line ends are not counted: 400 headers, over 17 KB on the wire, pass', async () => {
    const request = requestCounting(16_383, 400);
    assert.ok(Buffer.byteLength(request) > 17 * 1024, `${Buffer.byteLength(request)} bytes`);
    assert.equal((await rawExchange(port, request)).status, 200);
    assert.equal((await rawExchange(port, requestCounting(16_384, 400))).status, 431);
  });
});
