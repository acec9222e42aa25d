// Property-based hostile input (issue 9): thousands of generated requests against every partner
// route and every /admin/v1 route, on both databases, through inject(), plus a smaller part over a
// real socket for what only Node's HTTP parser sees (huge headers and URLs, bad request lines,
// bad percent-encoding). For every request: never a 5xx, never a hang, the documented envelope of
// the path's family with a code from the closed list whose status is httpStatusOf(code), a 2xx only
// for input that is actually valid, and nothing stored that was not acknowledged.
//
// Every family draws its inputs from a fixed seed derived from FUZZ_SEED (default 902026); a
// failure prints `reproduce with FUZZ_SEED=… FUZZ_RUNS=…` and the counterexample. FUZZ_RUNS is
// the number of inject requests per dialect (default 5,500; with the 300 real-socket cases per
// dialect, FUZZ_SOCKET_RUNS, a run makes 11,600 requests in about 80 s on 2 cores).
// FUZZ_SHRINK=1 shrinks a counterexample (slower); FUZZ_TRACE=<file> logs every request and answer.
// The last test of each dialect prints the tally: `fuzz sqlite: 5800 requests; 200×672 400×2463 …`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { ERROR_CODES, type ErrorCode, httpStatusOf } from '../../src/core/errors.js';
import { countRows, drain, EVENT_SCOPE, EVENTS_URL, eventsFixture, makeWorker, PASSWORD, VIN_1 } from '../helpers/events.js';
import { parseRawAnswer } from '../helpers/raw-http.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 5500);
const SOCKET_RUNS = Number(process.env.FUZZ_SOCKET_RUNS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? 90_2026);
const MAX_BODY_BYTES = 64 * 1024;
const ADMIN_TOKEN = 'fuzz-admin-token-0123456789abcdef';
const INJECT_TIMEOUT_MS = 10_000;
const CODES = new Set<string>(ERROR_CODES);

// ---------------------------------------------------------------------------------------------
// Fixture: the events fixture plus a lead writer for d-1 (c-1 owns v-1; c-3 owns v-3).

const LEAD_WRITER = 'lead-writer';
const fixture = {
  ...eventsFixture,
  subscribers: [
    ...eventsFixture.subscribers,
    { username: LEAD_WRITER, password: PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-1'] }] },
    { username: 'lead-reader', password: PASSWORD, grants: [{ scope: 'lead.read', dealers: ['d-1'] }] },
  ],
};

const suiteEnv = {
  MAX_BODY_BYTES: String(MAX_BODY_BYTES),
  ADMIN_TOKEN,
  // Exercise the checks, not the lockout (the lockout has its own tests): every request comes
  // from 127.0.0.1 and many of them carry bad credentials on purpose.
  AUTH_MAX_FAILURES_PER_ADDRESS: '1000000',
  AUTH_MAX_FAILURES_PER_USERNAME: '1000000',
};

// ---------------------------------------------------------------------------------------------
// Hostile building blocks.

const INJECTIONS = [
  "' OR 1=1 --",
  '"; DROP TABLE events; --',
  "'; DROP TABLE leads; --",
  '1; SELECT pg_sleep(5)--',
  "%' OR '1'='1",
  '$eval("1+1")',
  "$eval('$$.password')",
  '$$',
  '$',
  '$string($)',
  '$sum([1..1000000])',
  '{{7*7}}',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, on purpose
  '${7*7}',
  '__proto__',
  'constructor',
  'prototype',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfff',
  '\udbff\ud800',
  '\ud83d\ude00',
  '\ufeff',
  '\u202eevil',
  '\\',
  '"',
  'NEAR(a b)',
  '"unbalanced',
  'a*',
  '-',
  'AND',
  '%',
  '%zz',
  '../../etc/passwd',
  '',
  ' ',
] as const;

/** Any UTF-16 code units, lone surrogates and U+0000 included. */
const codeUnits = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd800, max: 0xdfff })), {
    maxLength: 12,
  })
  .map((units) => String.fromCharCode(...units));

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: codeUnits },
  { weight: 1, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(256), 'b'.repeat(4001), '😀'.repeat(255), '😀'.repeat(256)) },
);

const NUMBER_LITERALS = [
  '1e400',
  '-1e400',
  '-0',
  '1e-400',
  '9007199254740993',
  '-9007199254740993',
  '0.1e1',
  '1E+2',
  '123456789012345678901234567890',
];

/** A JSON value as raw text (so number literals and duplicate keys survive as written). */
const jsonValueText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...NUMBER_LITERALS, 'true', 'false', 'null', '0', '{}', '[]'),
    hostileString.map((s) => JSON.stringify(s)),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc
      .array(
        fc.tuple(fc.oneof(fc.constantFrom('a', '__proto__', 'constructor', 'prototype', 'dealer_uuid'), hostileString), tie('value')),
        {
          maxLength: 4,
        },
      )
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  ),
})).value;

const INVALID_UTF8: readonly number[][] = [
  [0xff],
  [0xfe],
  [0xc0, 0x80], // overlong NUL
  [0xc1, 0xbf],
  [0xe0, 0x80, 0x80], // overlong
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded in UTF-8 (CESU-8)
  [0xed, 0xbf, 0xbf],
  [0xe2, 0x82], // truncated
  [0xf4, 0x90, 0x80, 0x80], // above U+10FFFF
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x80],
];

function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Body text generators shared by every JSON route: the valid body is varied or broken. */
function hostileBody(valid: fc.Arbitrary<Record<string, unknown>>): fc.Arbitrary<Buffer> {
  const validText = valid.map((v) => JSON.stringify(v));
  return fc.oneof(
    // Valid as generated.
    { weight: 5, arbitrary: validText.map((t) => Buffer.from(t)) },
    // Hostile values spliced in as raw JSON text (duplicate keys, odd numbers, prototype keys).
    {
      weight: 5,
      arbitrary: fc
        .tuple(
          validText,
          fc.constantFrom('a', '__proto__', 'constructor', 'prototype', 'dealer_uuid', 'summary', 'leadId', 'name', 'uuid'),
          jsonValueText,
        )
        .map(([t, k, v]) => Buffer.from(`${t.slice(0, -1)}${t.length > 2 ? ',' : ''}${JSON.stringify(k)}:${v}}`)),
    },
    { weight: 2, arbitrary: jsonValueText.map((t) => Buffer.from(t)) },
    // Truncated or with one byte changed.
    { weight: 3, arbitrary: fc.tuple(validText, fc.nat()).map(([t, n]) => Buffer.from(t.slice(0, n % Math.max(1, t.length)))) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(validText, fc.nat(), fc.constantFrom('{', '}', '"', ',', ':', '\\', '\u0000', '\n', 'x', ']'))
        .map(([t, n, c]) => Buffer.from(`${t.slice(0, n % t.length)}${c}${t.slice(n % t.length)}`)),
    },
    // Invalid UTF-8 inside a string.
    {
      weight: 3,
      arbitrary: fc.tuple(validText, fc.constantFrom(...INVALID_UTF8)).map(([t, bad]) => {
        const at = t.indexOf('":"') + 3;
        const bytes = Buffer.from(t);
        const cut = Buffer.byteLength(t.slice(0, at));
        return Buffer.concat([bytes.subarray(0, cut), Buffer.from(bad), bytes.subarray(cut)]);
      }),
    },
    // Lone surrogates: escaped, and raw (as UTF-16 code units JSON.stringify keeps escaped in v20).
    {
      weight: 2,
      arbitrary: fc
        .tuple(validText, fc.constantFrom('\\ud800', '\\udfff', '\\udbff\\u0041', '\\ud83d\\ude00', '\\u0000', '\\uDC00'))
        .map(([t, esc]) => Buffer.from(t.replace('":"', `":"${esc}`))),
    },
    // Deep nesting around 64, and far beyond.
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(1, 10, 62, 63, 64, 65, 66, 200, 5000, 30_000), fc.constantFrom<'array' | 'object'>('array', 'object'))
        .map(([d, kind]) => Buffer.from(`{"dealer_uuid":"d-1","deep":${nested(d, kind)}}`)),
    },
    // Around and over MAX_BODY_BYTES.
    {
      weight: 1,
      arbitrary: fc.constantFrom(MAX_BODY_BYTES - 100, MAX_BODY_BYTES, MAX_BODY_BYTES + 1, MAX_BODY_BYTES * 3).map((size) => {
        const head = '{"dealer_uuid":"d-1","summary":"';
        return Buffer.from(`${head}${'x'.repeat(Math.max(0, size - head.length - 2))}"}`);
      }),
    },
    // Empty, blank, BOMs, not objects.
    {
      weight: 2,
      arbitrary: fc
        .constantFrom(
          '',
          ' ',
          '\n\t',
          '\ufeff',
          '\ufeff{}',
          '\ufeff\ufeff{}',
          'null',
          '[]',
          '"x"',
          '1',
          'true',
          '{"a":1,"a":2}',
          '{"a":1}garbage',
          '{}{}',
        )
        .map((t) => Buffer.from(t)),
    },
  );
}

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/json; charset=latin1',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  '',
  '   ',
  ';;;',
  'application/json, text/plain',
  'application/jsonx',
  'application/vnd.api+json',
  '*/*',
] as const;
/** undefined: no Content-Type header at all. */
const contentType = fc.option(fc.constantFrom(...CONTENT_TYPES), { nil: undefined, freq: 6 });

/** Malformed Basic headers; none of them may authenticate. */
const malformedBasic = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    'Basic',
    'Basic ',
    'Basic ===',
    'Basic !!!!',
    `Basic ${Buffer.from('no-colon').toString('base64')}`,
    `Basic ${Buffer.from(':only-password').toString('base64')}`,
    `Basic ${Buffer.from(`multi-partner:${PASSWORD}`).toString('base64')}AA`,
    `Basic ${Buffer.from(`multi-partner:${PASSWORD}\u0000`).toString('base64')}`,
    `Basic ${Buffer.concat([Buffer.from('multi-partner:'), Buffer.from([0xff, 0xfe])]).toString('base64')}`,
    'Basic ünïcödé',
    `Basic ${'A'.repeat(20_000)}`,
    `Bearer ${ADMIN_TOKEN}`,
    'Digest username="x"',
    `basic  ${Buffer.from(`multi-partner:${PASSWORD}`).toString('base64')} x`,
  ),
  hostileString.map((s) => `Basic ${s}`),
  hostileString.map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
);

/** A small pool of wrong credentials: a repeated wrong credential costs no scrypt. */
const wrongBasic = fc.constantFrom(
  basic('multi-partner', 'wrong-password'),
  basic('nobody', PASSWORD),
  basic("' OR 1=1 --", "' OR 1=1 --"),
  basic('off', PASSWORD),
);

// ---------------------------------------------------------------------------------------------
// Requests and answers.

interface FuzzRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly payload?: Buffer;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hang: no answer to ${what} within ${ms} ms`)), ms);
    }),
  ]);
}

type Family = 'events' | 'leads' | 'plain';

function familyOf(url: string): Family {
  if (url.startsWith('/service-pre-diag/')) return 'events';
  if (url.startsWith('/leads/')) return 'leads';
  return 'plain';
}

const explain = (req: FuzzRequest, res?: { statusCode: number; body: string }) =>
  `${req.method} ${req.url.slice(0, 300)} headers=${JSON.stringify(req.headers).slice(0, 600)} payload=${JSON.stringify(req.payload?.toString('latin1').slice(0, 400))}${res ? ` → ${res.statusCode} ${res.body.slice(0, 600)}` : ''}`;

/** Every answer's checks; returns the error code of a 4xx (undefined for a 2xx). */
function checkAnswer(req: FuzzRequest, status: number, headers: Record<string, unknown>, body: string): ErrorCode | undefined {
  const info = () => explain(req, { statusCode: status, body });
  assert.ok(status < 500, `5xx: ${info()}`);
  assert.ok(status >= 200, `no status: ${info()}`);
  assert.match(String(headers['x-request-id'] ?? ''), /^[0-9a-f-]{36}$/, `no X-Request-Id: ${info()}`);
  if (status < 400) {
    assert.ok([200, 201, 202, 204].includes(status), `unexpected ${status}: ${info()}`);
    return undefined;
  }
  assert.match(String(headers['content-type'] ?? ''), /^application\/json/, `error not JSON: ${info()}`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(body) as Record<string, unknown>;
  } catch {
    assert.fail(`error body not JSON: ${info()}`);
  }
  const path = req.url.split('?')[0] ?? '';
  let code: unknown;
  switch (familyOf(req.url)) {
    case 'events': {
      assert.deepEqual(Object.keys(parsed).sort(), ['errors', 'requestId', 'warnings'], `events envelope: ${info()}`);
      const errors = parsed.errors as { errorCode: unknown; errorMessage: unknown }[];
      assert.equal(errors.length, 1, info());
      assert.equal(typeof errors[0]?.errorMessage, 'string', info());
      assert.deepEqual(parsed.warnings, [], info());
      assert.equal(parsed.requestId, null, info());
      code = errors[0]?.errorCode;
      break;
    }
    case 'leads': {
      assert.deepEqual(
        Object.keys(parsed).sort(),
        ['error', 'errorCode', 'message', 'path', 'status', 'timestamp'],
        `leads 4xx envelope: ${info()}`,
      );
      assert.equal(parsed.status, status, info());
      assert.equal(typeof parsed.error, 'string', info());
      assert.equal(typeof parsed.message, 'string', info());
      assert.ok(!Number.isNaN(Date.parse(String(parsed.timestamp))), info());
      assert.equal(parsed.path, path, info());
      code = parsed.errorCode;
      break;
    }
    case 'plain': {
      assert.deepEqual(Object.keys(parsed), ['error'], `plain envelope: ${info()}`);
      const error = parsed.error as Record<string, unknown>;
      assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'requestId'], info());
      assert.equal(typeof error.message, 'string', info());
      assert.equal(error.requestId, headers['x-request-id'], info());
      code = error.code;
      break;
    }
  }
  assert.ok(typeof code === 'string' && CODES.has(code), `code outside the closed list: ${info()}`);
  assert.equal(httpStatusOf(code as ErrorCode), status, `status of ${String(code)}: ${info()}`);
  if (status === 401) assert.ok(headers['www-authenticate'], `401 without WWW-Authenticate: ${info()}`);
  if (status === 429 || status === 503) assert.ok(headers['retry-after'], `${status} without Retry-After: ${info()}`);
  return code as ErrorCode;
}

// ---------------------------------------------------------------------------------------------
// Oracles: what the documented contract says an input is.

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE = /\p{Cs}/u;

/** The gate's body rules (docs/api.md, the gate, step 3): undefined when acceptable. */
function gateBodyVerdict(bytes: Buffer): ErrorCode | { readonly value: Record<string, unknown> } {
  if (bytes.length > MAX_BODY_BYTES) return 'PAYLOAD_TOO_LARGE';
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return 'INVALID_JSON';
  }
  if (text.startsWith('\ufeff')) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'INVALID_JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'BODY_NOT_OBJECT';
  // Nested at most 64 levels (the body object is level 0), no lone surrogate in a key or string.
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v === 'string' && LONE.test(v)) return 'VALIDATION_FAILED';
    if (v === null || typeof v !== 'object') continue;
    if (depth >= 64) return 'VALIDATION_FAILED';
    for (const [k, child] of Object.entries(v)) {
      if (LONE.test(k)) return 'VALIDATION_FAILED';
      stack.push([child, depth + 1]);
    }
  }
  return { value: value as Record<string, unknown> };
}

const strictBase64 = (token: string): Buffer | undefined => {
  const bytes = Buffer.from(token, 'base64');
  const canonical = bytes.toString('base64');
  return token === canonical || token === canonical.replace(/=+$/, '') ? bytes : undefined;
};

const KNOWN_GOOD = new Map([
  ['multi-partner', PASSWORD],
  ['partner', PASSWORD],
  ['transformer', PASSWORD],
  ['inactive-partner', PASSWORD],
  ['no-scope', PASSWORD],
  ['no-integration', PASSWORD],
  [LEAD_WRITER, PASSWORD],
  ['lead-reader', PASSWORD],
]);

/** Basic auth as documented: the username when the credentials are good, else the code. */
function basicVerdict(header: string | undefined): ErrorCode | { readonly username: string } {
  if (header === undefined || header.trim() === '') return 'NULL_CREDENTIALS';
  const token = /^Basic[ \t]+([A-Za-z0-9+/]+={0,2})[ \t]*$/i.exec(header)?.[1];
  const bytes = token === undefined ? undefined : strictBase64(token);
  if (bytes === undefined) return 'MALFORMED_CREDENTIALS';
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'MALFORMED_CREDENTIALS';
  }
  const colon = decoded.indexOf(':');
  if (decoded.includes('\u0000') || colon <= 0) return 'MALFORMED_CREDENTIALS';
  const username = decoded.slice(0, colon);
  return KNOWN_GOOD.get(username) === decoded.slice(colon + 1) ? { username } : 'WRONG_CREDENTIAL';
}

/** Bad percent-encoding is refused before routing (and so before authentication). */
function decodable(url: string): boolean {
  try {
    decodeURIComponent(url.split('?')[0] ?? '');
    return true;
  } catch {
    return false;
  }
}

const EVENT_SENDERS = new Set(['multi-partner', 'partner', 'transformer']);

// ---------------------------------------------------------------------------------------------
// Statistics.

interface Tally {
  requests: number;
  readonly statuses: Map<number, number>;
}
const newTally = (): Tally => ({ requests: 0, statuses: new Map() });
/** This dialect's requests, and the whole run's (both dialects). */
let stats = newTally();
const total = newTally();
function record(status: number): void {
  for (const tally of [stats, total]) {
    tally.requests++;
    tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
  }
}
function summary(label: string, tally: Tally): string {
  const parts = [...tally.statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}×${n}`);
  return `fuzz ${label}: ${tally.requests} requests; ${parts.join(' ')} (status 0: closed without an answer)`;
}

// ---------------------------------------------------------------------------------------------
// Admin routes, read from the app itself.

interface OpenApiOperation {
  readonly parameters?: readonly { readonly in: string; readonly name: string }[];
  readonly requestBody?: { readonly content?: Record<string, { readonly schema?: { readonly properties?: Record<string, unknown> } }> };
}

interface RouteEntry {
  readonly path: string;
  readonly methods: readonly string[];
}

/** The routes of `printRoutes({ commonPrefix: false })`, flattened to full paths. */
export function routesOf(app: FastifyInstance): RouteEntry[] {
  const stack: string[] = [];
  const out: RouteEntry[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^((?:│ {3}| {4})*)[├└]── (\S+)(?: \(([^)]+)\))?$/.exec(line.trimEnd());
    if (!m) continue;
    const depth = (m[1] ?? '').length / 4;
    const segment = (m[2] ?? '').replace(/:([A-Za-z]+)(\|:[A-Za-z]+)*/g, ':$1');
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + segment;
    stack.push(path);
    if (m[3]) out.push({ path, methods: m[3].split(', ') });
  }
  return out;
}

/** Values for admin path parameters: fixture rows that no other part of this suite relies on. */
const ADMIN_PARAM_VALUES: Record<string, readonly string[]> = {
  uuid: ['d-3', 'c-3', 'v-3', 'fz-d-1', 'fz-c-1', 'fz-v-1'],
  dealerUuid: ['d-1', 'd-2', 'd-3', 'fz-d-1', 'nope'],
  customerUuid: ['c-3', 'fz-c-1', 'nope'],
  username: ['switch', 'dotted', 'inactive-partner', 'no-integration', 'fz-sub-1', 'nope'],
  subscriber: ['switch', 'dotted', 'no-integration', 'fz-sub-1', 'nope'],
  eventType: ['vehicle-service-chat', 'nope'],
  requestId: ['00000000-0000-7000-8000-000000000000', 'nope'],
  id: ['1', 'nope', '00000000-0000-4000-8000-000000000000'],
  prospectUuid: ['nope', '00000000-0000-4000-8000-000000000000'],
};

const ADMIN_QUERY_NAMES = [
  'limit',
  'cursor',
  'q',
  'status',
  'subscriber',
  'eventType',
  'dealer',
  'errorCode',
  'since',
  'until',
  'vin',
  'escalated',
  'leadType',
  'entity',
  'key',
  'actor',
  '__proto__',
  'constructor',
  'zz',
];
const cursorOf = (json: string) => Buffer.from(json, 'utf8').toString('base64url');
const ADMIN_QUERY_VALUES = [
  '1',
  '0',
  '-1',
  '201',
  '1e400',
  'abc',
  'REJECTED,FAILED',
  'REJECTED,',
  ',,,',
  'true',
  'yes',
  '2026-11-01T00:00:00Z',
  '2026-13-45',
  '+275760-09-13T00:00:00.000Z',
  '+275760-09-13T00:00:00.001Z',
  '-271821-04-20T00:00:00.000Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999+14:00',
  '2026-11-01T00:00:00+99:99',
  'WzE3OTUzN',
  'eyJ4Ijo',
  // Cursors that decode to the right shape with hostile contents.
  cursorOf('["\\u0000"]'),
  cursorOf('["x\\ud800"]'),
  cursorOf('["\' OR 1=1 --"]'),
  cursorOf('[1,"\\u0000"]'),
  cursorOf('[9007199254740991,"x"]'),
  cursorOf('[-9007199254740991,"x"]'),
  cursorOf('[1e400,"x"]'),
  cursorOf('["a","\\u0000"]'),
  cursorOf('[9007199254740991]'),
  cursorOf('[-1]'),
  cursorOf('{"__proto__":[1]}'),
  VIN_1,
];

const FORGED_CURSORS = ADMIN_QUERY_VALUES.filter((v) => /^[A-Za-z0-9_-]{8,}$/.test(v) && v !== VIN_1);

/** Plausible values per admin query parameter (hostile ones are mixed in by the generator). */
const ADMIN_QUERY_SAMPLES: Record<string, readonly string[]> = {
  limit: ['1', '2', '50', '200'],
  cursor: FORGED_CURSORS,
  q: ['a', 'd-', 'Jane', '$$', "' OR 1=1 --", 'NEAR(a b)', '"x', 'a*', 'AND OR NOT', '-x', 'x:y', '^', '{}', '(', '%', '_'],
  status: ['REJECTED', 'REJECTED,FAILED', 'RECEIVED', 'PROCESSED', 'NEW'],
  since: ['2026-11-01T00:00:00Z', '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '2026-11-01T00:00:00.123456789Z'],
  until: ['2030-01-01T00:00:00Z', '-271821-04-20T00:00:00.000Z', '9999-12-31T23:59:59.999+14:00'],
  escalated: ['true', 'false'],
  vin: [VIN_1, '1', 'x'.repeat(17)],
  leadType: ['RECALL', 'SERVICE_DEMAND'],
  entity: ['dealer', 'subscriber', 'admin-token'],
  key: ['d-1', 'multi-partner'],
  actor: ['admin-api', 'apply'],
  subscriber: ['multi-partner', 'partner'],
  eventType: ['vehicle-service-chat'],
  dealer: ['d-1', 'd-2'],
  errorCode: ['DEALER_NOT_MAPPED', 'INVALID_FIELD'],
};

/** Plausible values per admin body field, to get past the schema into the services. */
const ADMIN_FIELD_SAMPLES: Record<string, readonly unknown[]> = {
  uuid: ['fz-d-1', 'fz-c-1', 'fz-v-1', 'd-1', 'c-1', 'x'.repeat(65)],
  username: ['fz-sub-1', 'fz-sub-2', 'multi-partner', 'UPPER', 'a b'],
  password: ['a-long-s3cret-pass', 'short', 'p\u0000ssword', 'x'.repeat(10_000)],
  grants: [
    [{ scope: EVENT_SCOPE, dealers: ['d-3'] }],
    [{ scope: 'lead.write', dealers: '*' }],
    [{ scope: "' OR 1=1 --", dealers: ['$$'] }],
    [{ scope: 'lead.read', dealers: ['nope'] }],
    [{ scope: 'lead.read', dealers: [] }],
    [{ scope: 'lead.read', dealers: '**' }],
    [{ scope: 'lead.read' }],
    [],
  ],
  subscriber: ['fz-sub-1', 'no-integration', 'multi-partner', 'nope'],
  eventType: ['vehicle-service-chat', 'nope', '__proto__'],
  active: [true, false, 'true', 1],
  dealerIdField: ['dealer_uuid', 'store.id', '', '..', '__proto__.x', 'a.b.c.d.e.f.g', '$$'],
  dealerMap: [{ 'S-9': 'd-3' }, { __proto__: 'd-1' }, { constructor: 'd-3' }, { x: 'nope' }, { x: 1 }, {}],
  schema: [
    { type: 'object', required: ['__proto__'] },
    { $ref: '#' },
    { $ref: 'http://evil/schema.json' },
    { type: 'object', properties: { a: { pattern: '(a+)+$' } } },
    { type: 'nope' },
    { allOf: [{ $ref: '#' }] },
    true,
    null,
  ],
  transform: [
    '$eval("$$")',
    '{ "dealer_uuid": $$.dealer_uuid }',
    '$sum([1..10000000])',
    '( $f := function($x){ $f($x) }; $f(1) )',
    '$eval(\'$eval("1")\')',
    '{ "dealer_uuid": $string($) }',
    '{ "vin": ',
    '',
    null,
  ],
  filter: [{ status: 'REJECTED' }, { q: "' OR 1=1 --" }, { status: 'NOPE' }, { since: '2026-13-45' }, { q: 'NEAR(a b)' }, {}],
  body: [{ dealer_uuid: 'd-1' }, { dealer_uuid: 'S-9' }, [], 'x', null],
  candidate: [
    { transform: '$eval("$$")' },
    { transform: '{ "dealer_uuid": $$.dealer_uuid }' },
    { schema: { $ref: '#' } },
    { dealerMap: { __proto__: 'd-1' } },
    {},
  ],
  requestId: ['00000000-0000-7000-8000-000000000000', "' OR 1=1 --"],
  year: [2020, -1, 0, 2 ** 31, Number.POSITIVE_INFINITY, 2 ** 53 + 2, 2020.5, '2020'],
  vin: [VIN_1, 'x'.repeat(18), ''],
  rateLimit: [null, 0, -1, 1e308, { perSecond: 1 }, { perMinute: -1 }, 'x'],
  passwordOverlapHours: [0, 1, -1, 1e308, 24, 2 ** 31, 0.5],
  disabled: [true, false, null, 'false'],
};

/** A body the admin API could take: objects with the fields its routes know, hostile values. */
const adminBodyObject = fc.dictionary(
  fc.constantFrom(
    'uuid',
    'name',
    'firstName',
    'lastName',
    'email',
    'phone',
    'vin',
    'year',
    'make',
    'model',
    'username',
    'password',
    'grants',
    'disabled',
    'subscriber',
    'eventType',
    'active',
    'dealerIdField',
    'dealerMap',
    'schema',
    'transform',
    'filter',
    'body',
    'requestId',
    'candidate',
    'rateLimit',
    'token',
    '__proto__',
    'constructor',
  ),
  fc.oneof(
    hostileString,
    fc.constantFrom<unknown>(
      'fz-d-1',
      'fz-sub-1',
      'a-long-s3cret-pass',
      'vehicle-service-chat',
      true,
      null,
      2020,
      -0,
      1e308,
      [],
      {},
      [{ scope: EVENT_SCOPE, dealers: ['d-3'] }],
      [{ scope: 'lead.write', dealers: '*' }],
      [{ scope: "' OR 1=1 --", dealers: ['$$'] }],
      { dealer_uuid: 'd-1' },
      { status: 'REJECTED' },
      { transform: '$eval("$$")' },
      { transform: '{ "dealer_uuid": $$.dealer_uuid }' },
      { schema: { type: 'object', required: ['__proto__'] } },
      { schema: { $ref: '#' } },
      { schema: { pattern: '(a+)+$' } },
      "$eval('$sum([1..100000])')",
      '(function(){while(true){}})()',
      { 'S-9': 'd-3' },
    ),
  ),
  { maxKeys: 5 },
);

// ---------------------------------------------------------------------------------------------

describeEachDialect('hostile input, property-based', { fixture, env: suiteEnv }, (ctx) => {
  const acknowledged = new Set<string>();
  let eventsAdded = 0;
  let leadsCreated = 0;
  const idempotency = new Map<string, { sha: string; requestId: string }>();
  const prospects: string[] = [];
  let startEvents = 0;
  let startLeads = 0;
  const leadCount = async () => {
    const row = await ctx()
      .tdb.db.kysely.selectFrom('leads')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };

  const send = async (req: FuzzRequest): Promise<LightMyRequestResponse> => {
    let res: LightMyRequestResponse;
    try {
      res = await withTimeout(
        ctx().app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload }),
        INJECT_TIMEOUT_MS,
        explain(req),
      );
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${explain(req)}`);
    }
    record(res.statusCode);
    // FUZZ_TRACE=<file>: one line per request and answer, to see what the generators reach.
    if (process.env.FUZZ_TRACE) appendFileSync(process.env.FUZZ_TRACE, `${explain(req, res).replace(/\n/g, ' ')}\n`);
    return res;
  };

  /** fast-check with a fixed seed; the seed is printed on failure with the counterexample. */
  const run = async <T>(name: string, arb: fc.Arbitrary<T>, share: number, check: (value: T) => Promise<void>) => {
    const numRuns = Math.max(1, Math.round(FUZZ_RUNS * share));
    // Each family and each dialect draws its own inputs; FUZZ_SEED reproduces all of them.
    const seed = SEED + [...name].reduce((a, c) => a + c.charCodeAt(0), 0) + (ctx().tdb.dialect === 'postgres' ? 100_000 : 0);
    try {
      await fc.assert(fc.asyncProperty(arb, check), { seed, numRuns, endOnFailure: process.env.FUZZ_SHRINK !== '1' });
    } catch (err) {
      throw new Error(
        `${name}: reproduce with FUZZ_SEED=${SEED} FUZZ_RUNS=${FUZZ_RUNS} (property seed ${seed})\n${(err as Error).message}\n${String((err as Error).cause ?? '')}`,
      );
    }
  };

  test('baseline row counts', async () => {
    stats = newTally();
    startEvents = await countRows(ctx().tdb.db.kysely, 'events');
    startLeads = await leadCount();
  });

  // ---- the gate ----
  const chatObject = fc.record(
    {
      dealer_uuid: fc.oneof(fc.constantFrom('d-1', 'd-2', 'd-3', 'P-100', 'P-200', 'EXT-1', 'S-1'), hostileString),
      summary: hostileString,
      vin: fc.oneof(fc.constant(VIN_1), hostileString),
      chat_code: hostileString,
      event_timestamp: fc.oneof(fc.constant(1_700_000_000_000), fc.double(), fc.integer()),
      escalation_flag: fc.oneof(fc.boolean(), hostileString),
      line_items: fc.array(fc.record({ description: hostileString, payable: fc.boolean() }), { maxLength: 3 }),
    },
    { requiredKeys: ['dealer_uuid'] },
  );
  const gateRequest = fc.record({
    auth: fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('multi-partner', 'partner', 'transformer').map((u) => basic(u, PASSWORD)) },
      {
        weight: 1,
        arbitrary: fc.constantFrom('inactive-partner', 'no-scope', 'no-integration', LEAD_WRITER).map((u) => basic(u, PASSWORD)),
      },
      { weight: 1, arbitrary: wrongBasic },
      { weight: 1, arbitrary: malformedBasic },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    contentType,
    idempotencyKey: fc.option(
      fc.oneof(
        fc.constantFrom('k-1', 'k-2', 'k-3', '', ' ', 'x'.repeat(255), 'x'.repeat(256), "' OR 1=1 --", '$$', 'k\u00ff', 'ключ'),
        // Only inject() can send these (Node's parser refuses control characters in a header).
        fc.constantFrom('\u0000', 'k\u0000', 'k\u0001', 'k\ud800', 'k\udbff', 'k\t'),
        fc.uuid(),
      ),
      { freq: 3 },
    ),
    body: hostileBody(chatObject),
    huge: fc.option(fc.constantFrom(20_000, 70_000), { freq: 30 }),
  });

  test('the chat-event gate', async () => {
    const db = ctx().tdb.db.kysely;
    await run('gate', gateRequest, 0.3, async (g) => {
      const headers: Record<string, string> = {};
      if (g.auth !== undefined) headers.authorization = g.auth;
      if (g.contentType !== undefined) headers['content-type'] = g.contentType;
      if (g.idempotencyKey !== null) headers['idempotency-key'] = g.idempotencyKey;
      if (g.huge !== null) headers['x-huge'] = 'h'.repeat(g.huge);
      const req: FuzzRequest = { method: 'POST', url: EVENTS_URL, headers, payload: g.body };
      const before = await countRows(db, 'events');
      const res = await send(req);
      const after = await countRows(db, 'events');
      const info = () => explain(req, res);
      if (res.statusCode === 200) {
        const requestId = (res.json() as { requestId: string }).requestId;
        const replay = acknowledged.has(requestId);
        if (!replay) {
          acknowledged.add(requestId);
          eventsAdded++;
        }
        assert.equal(after - before, replay ? 0 : 1, `rows added for a 200: ${info()}`);
      } else {
        assert.equal(after, before, `a refused event was stored: ${info()}`);
      }
      const code = checkAnswer(req, res.statusCode, res.headers, res.body);

      // The documented order: credentials, event source, size, key, body, dealer.
      let expected: ErrorCode | 'OK';
      const auth = basicVerdict(g.auth);
      const verdict = gateBodyVerdict(g.body);
      const key = g.idempotencyKey;
      if (typeof auth === 'string') expected = auth;
      else if (!EVENT_SENDERS.has(auth.username)) expected = 'INVALID_EVENT_SOURCE';
      else if (verdict === 'PAYLOAD_TOO_LARGE') expected = verdict;
      // Headers are inputs too: no U+0000, no lone surrogate (checked with the route's schema).
      else if (key !== null && (key.includes('\u0000') || LONE.test(key))) expected = 'VALIDATION_FAILED';
      else if (key !== null && (key.trim() === '' || key.length > 255)) expected = 'IDEMPOTENCY_KEY_INVALID';
      else if (typeof verdict === 'string') expected = verdict;
      else if (auth.username === 'partner' && ['d-2', 'P-200'].includes(verdict.value.dealer_uuid as string))
        expected = 'INVALID_SCOPE_DEALER';
      else if (auth.username === 'partner' && ['d-3'].includes(verdict.value.dealer_uuid as string)) expected = 'INVALID_SCOPE_DEALER';
      else {
        expected = 'OK';
        if (key !== null) {
          const sha = createHash('sha256').update(g.body).digest('hex');
          const earlier = idempotency.get(`${auth.username}\n${key}`);
          if (earlier && earlier.sha !== sha) expected = 'IDEMPOTENCY_KEY_REUSED';
        }
      }
      assert.equal(code ?? 'OK', expected, info());
      if (res.statusCode === 200) {
        const requestId = (res.json() as { requestId: string }).requestId;
        if (key !== null && typeof auth !== 'string') {
          const mapKey = `${auth.username}\n${key}`;
          const earlier = idempotency.get(mapKey);
          if (earlier) assert.equal(requestId, earlier.requestId, info());
          else idempotency.set(mapKey, { sha: createHash('sha256').update(g.body).digest('hex'), requestId });
        }
      }
    });
  });

  test('the partner dry run stores nothing', async () => {
    const db = ctx().tdb.db.kysely;
    await run('dry-run', gateRequest, 0.08, async (g) => {
      const headers: Record<string, string> = {};
      if (g.auth !== undefined) headers.authorization = g.auth;
      if (g.contentType !== undefined) headers['content-type'] = g.contentType;
      const req: FuzzRequest = { method: 'POST', url: `${EVENTS_URL}/dry-run`, headers, payload: g.body };
      const before = await countRows(db, 'events');
      const res = await send(req);
      const code = checkAnswer(req, res.statusCode, res.headers, res.body);
      assert.equal(await countRows(db, 'events'), before, explain(req, res));
      const auth = basicVerdict(g.auth);
      const verdict = gateBodyVerdict(g.body);
      if (code === undefined) {
        assert.equal(res.statusCode, 200);
        assert.ok(typeof auth !== 'string' && EVENT_SENDERS.has(auth.username), explain(req, res));
        assert.ok(typeof verdict !== 'string', `dry run accepted an invalid body: ${explain(req, res)}`);
        assert.equal((res.json() as { requestId: unknown }).requestId, null);
      } else if (typeof auth === 'string') {
        assert.equal(code, auth, explain(req, res));
      }
    });
  });

  test('the event status endpoint', async () => {
    const requestIds = () => [...acknowledged].slice(0, 50);
    const arb = fc.record({
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom('multi-partner', 'partner', 'transformer', LEAD_WRITER).map((u) => basic(u, PASSWORD)) },
        { weight: 1, arbitrary: wrongBasic },
        { weight: 1, arbitrary: malformedBasic },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      id: fc.oneof(
        fc.nat().map((n) => requestIds()[n % Math.max(1, requestIds().length)] ?? 'none'),
        hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))),
        fc.constantFrom('%zz', '%', '%ED%A0%80', '%00', '%C0%80', 'a%2Fb', '..', '%2e%2e', 'x'.repeat(5000), "'%20OR%201=1%20--"),
      ),
      query: fc.option(fc.constantFrom('?a=1', '?__proto__[x]=1', '?id=%zz', "?q=' OR 1=1 --"), { freq: 5 }),
      method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'DELETE', 'PUT'),
    });
    await run('status', arb, 0.08, async (s) => {
      const headers: Record<string, string> = {};
      if (s.auth !== undefined) headers.authorization = s.auth;
      const req: FuzzRequest = { method: s.method, url: `${EVENTS_URL}/${s.id}${s.query ?? ''}`, headers };
      const res = await send(req);
      if (s.method === 'HEAD') {
        assert.ok(res.statusCode < 500, explain(req, res));
        return;
      }
      const code = checkAnswer(req, res.statusCode, res.headers, res.body);
      if (code === undefined) {
        const auth = basicVerdict(s.auth);
        assert.ok(typeof auth !== 'string', explain(req, res));
        assert.ok(acknowledged.has((res.json() as { requestId: string }).requestId), explain(req, res));
      }
    });
  });

  // ---- leads ----
  const validLead = fc.record({
    customer: fc.constant({ uuid: 'c-1' }),
    vehicle: fc.record({ uuid: fc.constantFrom('v-1', 'v-3'), trackingId: fc.constantFrom('T-1', null, '') }),
    dealerDetails: fc.record({ source: fc.constantFrom('MMC', 'BMW_SPARC', 'AUTOPOINT'), name: fc.constantFrom('Dealer', "' OR 1=1 --") }),
    services: fc.constant([{ code: 'SVC-A', dueDate: '2023-06-01' }]),
    status: fc.constant('NEW'),
    lastContactDate: fc.constantFrom('2023-06-08 11:00:00Z', '2023-06-08 11:00:00+05:30', '2023-06-08 11:00:00-08'),
    leadId: fc.oneof(fc.constantFrom('FZ-1', 'FZ-2', '$$', '"; DROP TABLE events; --', '😀'), fc.uuid()),
    leadType: fc.constantFrom('RECALL', 'SERVICE_DEMAND'),
  });
  /** A mutation of a valid lead, and whether the contract still calls it valid. */
  const leadMutation = fc.oneof(
    fc.constant({ path: [] as string[], value: undefined as unknown, valid: true }),
    fc
      .tuple(
        fc.constantFrom(
          'leadId',
          'webId',
          'vehicle.topic',
          'vehicle.trackingId',
          'dealerDetails.code',
          'campaign.name',
          'vehicle.description',
        ),
        hostileString,
      )
      .map(([path, value]) => {
        const max = path === 'vehicle.description' ? 4000 : 255;
        const valid = !value.includes('\u0000') && !LONE.test(value) && [...value].length <= max;
        return { path: path.split('.'), value: value as unknown, valid };
      }),
    fc
      .tuple(
        fc.constantFrom('customer.uuid', 'vehicle.uuid', 'dealerDetails.source', 'status', 'leadType', 'lastContactDate', 'services'),
        hostileString,
      )
      .map(([path, value]) => ({ path: path.split('.'), value: value as unknown, valid: false })),
    fc
      .tuple(
        fc.constantFrom('leadId', 'customer', 'services', 'status', 'lastContactDate', 'campaign'),
        fc.constantFrom<unknown>(1e308, -0, 0, true, [], {}, null, 2 ** 53 + 2),
      )
      .map(([path, value]) => ({
        path: [path],
        value,
        valid:
          (path === 'campaign' && (value === null || (typeof value === 'object' && !Array.isArray(value)))) ||
          (path === 'leadId' && value === null),
      })),
    fc
      .constantFrom('2023-02-30', '2023-13-01', '23-06-01', "2023-06-01' OR 1=1 --", '')
      .map((d) => ({ path: ['services', '0', 'dueDate'], value: d as unknown, valid: d === '' })),
    fc
      .constantFrom('2023-06-08 25:00:00Z', '2023-06-08T11:00:00Z', '2023-06-08 11:00:00', '2023-06-08 11:00:00+99:00')
      .map((d) => ({ path: ['lastContactDate'], value: d as unknown, valid: false })),
    // The edges of what `yyyy-MM-dd HH:mm:ssZ` in UTC can write back (year 10000 cannot be).
    fc
      .constantFrom(
        ['9999-12-31 23:59:59Z', true],
        ['9999-12-31 23:59:59+14:00', true],
        ['9999-12-31 23:59:59-14:00', false],
        ['9999-12-31 23:59:59-00:01', false],
        ['2023-06-08 11:00:00-0000', true],
        ['2024-02-29 23:59:59+18', true],
        ['2023-02-29 00:00:00Z', false],
      )
      .map(([d, valid]) => ({ path: ['lastContactDate'], value: d as unknown, valid: valid as boolean })),
    fc.constantFrom('constructor', 'prototype', 'mood', 'x\u0000').map((k) => ({ path: [k], value: 1 as unknown, valid: k !== 'x\u0000' })),
  );
  const leadRequest = fc.record({
    auth: fc.oneof(
      { weight: 8, arbitrary: fc.constant(basic(LEAD_WRITER, PASSWORD)) },
      { weight: 1, arbitrary: fc.constantFrom('lead-reader', 'multi-partner', 'no-scope').map((u) => basic(u, PASSWORD)) },
      { weight: 1, arbitrary: wrongBasic },
      { weight: 1, arbitrary: malformedBasic },
      { weight: 1, arbitrary: fc.constant(undefined) },
    ),
    dealer: fc.oneof(
      { weight: 8, arbitrary: fc.constant('d-1') },
      { weight: 1, arbitrary: fc.constantFrom('d-2', 'nope', '%zz', '%ED%A0%80', 'x'.repeat(65)) },
    ),
    contentType: fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom('application/json', 'application/json; charset=utf-8') },
      { weight: 1, arbitrary: contentType },
    ),
    lead: validLead,
    // At most one mutation per top-level field, so the verdicts of two never overlap.
    mutations: fc.uniqueArray(leadMutation, { maxLength: 2, selector: (m) => m.path[0] ?? '' }),
    raw: fc.option(hostileBody(validLead), { freq: 3 }),
  });

  test('the leads save', async () => {
    await run('leads', leadRequest, 0.2, async (l) => {
      const body = structuredClone(l.lead) as Record<string, unknown>;
      let valid = true;
      for (const m of l.mutations) {
        if (m.path.length === 0) continue;
        let target = body as Record<string, unknown>;
        for (const p of m.path.slice(0, -1)) {
          if (target[p] === null || typeof target[p] !== 'object') target[p] = {};
          target = target[p] as Record<string, unknown>;
        }
        Object.defineProperty(target, m.path.at(-1) as string, { value: m.value, enumerable: true, writable: true, configurable: true });
        valid &&= m.valid;
      }
      const payload = l.raw ?? Buffer.from(JSON.stringify(body));
      const headers: Record<string, string> = {};
      if (l.auth !== undefined) headers.authorization = l.auth;
      if (l.contentType !== undefined) headers['content-type'] = l.contentType;
      const req: FuzzRequest = { method: 'POST', url: `/leads/v2/dealer/${l.dealer}`, headers, payload };
      const before = await leadCount();
      const res = await send(req);
      const after = await leadCount();
      const info = () => explain(req, res);
      // Accounted first, so a failing assertion below leaves the final count check meaningful.
      if (res.statusCode === 200) {
        const answer = res.json() as { isNewCreated: boolean; prospectUuid: string };
        if (answer.isNewCreated) {
          leadsCreated++;
          prospects.push(answer.prospectUuid);
        }
        assert.equal(after - before, answer.isNewCreated ? 1 : 0, `rows added: ${info()}`);
      } else {
        assert.equal(after, before, `a refused lead was stored: ${info()}`);
      }
      const code = checkAnswer(req, res.statusCode, res.headers, res.body);
      const auth = basicVerdict(l.auth);
      const authorized = typeof auth !== 'string' && (auth.username === LEAD_WRITER || auth.username === 'no-scope') && l.dealer === 'd-1';
      const jsonType = l.contentType !== undefined && /^application\/json\s*(;|$)/i.test(l.contentType.trim());
      if (l.raw !== null) {
        // Raw bytes: only a body the shape rules accept can be saved, and then it must be a lead.
        if (code === undefined) {
          assert.ok(authorized && jsonType, info());
          const verdict = gateBodyVerdict(l.raw);
          assert.ok(typeof verdict !== 'string', `lead saved from an invalid body: ${info()}`);
        }
      } else if (authorized && jsonType) {
        if (valid) assert.equal(res.statusCode, 200, `a valid lead refused: ${info()}`);
        else assert.notEqual(res.statusCode, 200, `an invalid lead saved: ${info()}`);
      } else {
        assert.notEqual(res.statusCode, 200, info());
        if (typeof auth === 'string' && decodable(req.url)) assert.equal(code, auth, info());
      }
    });
  });

  test('the lead read', async () => {
    const arb = fc.record({
      auth: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom(LEAD_WRITER, 'lead-reader', 'multi-partner').map((u) => basic(u, PASSWORD)) },
        { weight: 1, arbitrary: wrongBasic },
        { weight: 1, arbitrary: malformedBasic },
        { weight: 1, arbitrary: fc.constant(undefined) },
      ),
      dealer: fc.constantFrom('d-1', 'd-1', 'd-2', '%zz', "'%20OR%201=1"),
      id: fc.oneof(
        fc.nat().map((n) => prospects[n % Math.max(1, prospects.length)] ?? 'none'),
        hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))),
        fc.constantFrom('%zz', '%ED%A0%80', '%00', 'x'.repeat(65), '%F0%9F%98%80'),
      ),
    });
    await run('lead-read', arb, 0.06, async (r) => {
      const headers: Record<string, string> = {};
      if (r.auth !== undefined) headers.authorization = r.auth;
      const req: FuzzRequest = { method: 'GET', url: `/leads/v2/dealer/${r.dealer}/lead/${r.id}`, headers };
      const res = await send(req);
      const code = checkAnswer(req, res.statusCode, res.headers, res.body);
      if (code === undefined) {
        const lead = (res.json() as { lead: { prospectUuid: string; lastContactDate: string } }).lead;
        assert.ok(prospects.includes(lead.prospectUuid), explain(req, res));
        assert.equal(r.dealer, 'd-1');
        // Read back in the documented format, whatever offset it was sent with.
        assert.match(lead.lastContactDate, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/, explain(req, res));
      }
    });
  });

  // ---- admin ----
  test('every /admin/v1 route', async () => {
    const routes = routesOf(ctx().app).filter((r) => r.path.startsWith('/admin/v1'));
    assert.ok(routes.length >= 20, JSON.stringify(routes));
    // What each route takes, from its OpenAPI operation, so most requests get past the schema.
    const doc = ctx().app.swagger() as { paths: Record<string, Record<string, OpenApiOperation>> };
    const shape = (path: string) => path.replace(/:[A-Za-z]+|\{[A-Za-z]+\}/g, '{}');
    const operations = new Map<string, OpenApiOperation>();
    for (const [path, ops] of Object.entries(doc.paths))
      for (const [m, op] of Object.entries(ops)) operations.set(`${m.toUpperCase()} ${shape(path)}`, op);
    const pairs = routes.flatMap((r) =>
      r.methods
        .filter((m) => m !== 'HEAD')
        .map((method) => {
          const op = operations.get(`${method} ${shape(r.path)}`);
          const query = (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
          const fields = Object.keys(op?.requestBody?.content?.['application/json']?.schema?.properties ?? {});
          // The OpenAPI path names each parameter (printRoutes merges `:uuid|:dealerUuid`).
          const named = [...operations.keys()].includes(`${method} ${shape(r.path)}`)
            ? (Object.keys(doc.paths).find((p) => shape(p) === shape(r.path)) ?? r.path).replace(/\{([A-Za-z]+)\}/g, ':$1')
            : r.path;
          return { method, path: named, query, fields };
        }),
    );
    assert.ok(
      pairs.some((p) => p.query.includes('cursor')) && pairs.some((p) => p.fields.includes('transform')),
      "the OpenAPI document names the admin routes' query parameters and body fields",
    );
    const fieldValue = (name: string) =>
      fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom<unknown>(...(ADMIN_FIELD_SAMPLES[name] ?? ['x'])) },
        { weight: 2, arbitrary: hostileString },
        { weight: 1, arbitrary: fc.constantFrom<unknown>(null, 1e308, -0, true, [], {}, 2 ** 53 + 2) },
      );
    const routeAware = fc.constantFrom(...pairs).chain((route) =>
      fc.record({
        route: fc.constant(route),
        query: fc.oneof(
          {
            weight: 3,
            arbitrary:
              route.query.length === 0
                ? fc.constant<[string, string][]>([])
                : fc.uniqueArray(
                    fc
                      .constantFrom(...route.query)
                      .chain((name) =>
                        fc.tuple(
                          fc.constant(name),
                          fc.oneof(
                            { weight: 4, arbitrary: fc.constantFrom(...(ADMIN_QUERY_SAMPLES[name] ?? ['x'])) },
                            { weight: 1, arbitrary: fc.constantFrom(...ADMIN_QUERY_VALUES) },
                            { weight: 1, arbitrary: hostileString },
                          ),
                        ),
                      ),
                    { maxLength: 3, selector: ([name]) => name },
                  ),
          },
          {
            weight: 1,
            arbitrary: fc.array(
              fc.tuple(fc.constantFrom(...ADMIN_QUERY_NAMES), fc.oneof(fc.constantFrom(...ADMIN_QUERY_VALUES), hostileString)),
              { maxLength: 3 },
            ),
          },
        ),
        body: fc.oneof(
          {
            weight: 4,
            arbitrary:
              route.fields.length === 0
                ? fc.constant<Buffer | undefined>(undefined)
                : fc
                    .uniqueArray(fc.constantFrom(...route.fields), { minLength: 1, maxLength: route.fields.length })
                    .chain((names) => fc.tuple(...names.map((n) => fieldValue(n).map((v) => [n, v] as const))))
                    .map((entries) => Buffer.from(JSON.stringify(Object.fromEntries(entries)))),
          },
          { weight: 2, arbitrary: adminBodyObject.map((o) => Buffer.from(JSON.stringify(o))) },
          { weight: 2, arbitrary: hostileBody(adminBodyObject as fc.Arbitrary<Record<string, unknown>>) },
          { weight: 1, arbitrary: fc.constant<Buffer | undefined>(undefined) },
        ),
      }),
    );
    const arb = fc.record({
      target: routeAware,
      params: fc.array(
        fc.oneof(
          { weight: 3, arbitrary: fc.constant<string | null>(null) },
          { weight: 1, arbitrary: hostileString.map((s) => encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))) },
          { weight: 1, arbitrary: fc.constantFrom('%zz', '%ED%A0%80', '%00', 'x'.repeat(300), "'%20OR%201=1%20--", '%24%24') },
        ),
        { minLength: 3, maxLength: 3 },
      ),
      paramPick: fc.nat(),
      auth: fc.oneof(
        { weight: 8, arbitrary: fc.constant(`Bearer ${ADMIN_TOKEN}`) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            undefined,
            '',
            'Bearer',
            'Bearer ',
            `Bearer ${ADMIN_TOKEN}x`,
            `Bearer  ${ADMIN_TOKEN.slice(1)}`,
            `bearer ${'x'.repeat(600)}`,
            `Bearer ${ADMIN_TOKEN} extra`,
            'Bearer ünï',
            basic('multi-partner', PASSWORD),
            `Basic ${ADMIN_TOKEN}`,
            "Bearer ' OR 1=1 --",
          ),
        },
      ),
      contentType: fc.oneof(
        { weight: 5, arbitrary: fc.constant<string | undefined>('application/json') },
        { weight: 1, arbitrary: contentType },
      ),
      // The console's session cookie, forged (it never authenticates without the real MAC).
      cookie: fc.option(
        fc.oneof(
          fc.constantFrom(
            'dgw_session=',
            'dgw_session=1.99999999999999.x.y',
            'dgw_session=1.1.1.1; dgw_session=2',
            '=; ;;',
            `dgw_session=${'a.'.repeat(5000)}`,
          ),
          hostileString.map((v) => `dgw_session=${v.replace(/[\ud800-\udfff]/g, 'x')}`),
        ),
        { freq: 4 },
      ),
    });
    await run('admin', arb, 0.23, async (generated) => {
      const a = { ...generated, ...generated.target };
      let i = 0;
      const path = a.route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => {
        const hostile = a.params[i++ % 3];
        if (hostile !== null && hostile !== undefined) return hostile;
        const pool = ADMIN_PARAM_VALUES[name] ?? ['x'];
        return pool[(a.paramPick + i) % pool.length] as string;
      });
      const query = a.query.map(([k, v]) => `${k}=${encodeURIComponent(v.replace(/[\ud800-\udfff]/g, 'x'))}`).join('&');
      const headers: Record<string, string> = {};
      if (a.auth !== undefined) headers.authorization = a.auth;
      if (a.cookie !== null) {
        headers.cookie = a.cookie;
        headers['x-requested-with'] = 'dealer-gateway-console';
      }
      const hasBody = a.route.method !== 'GET' && a.body !== undefined;
      if (hasBody && a.contentType !== undefined) headers['content-type'] = a.contentType;
      const req: FuzzRequest = {
        method: a.route.method,
        url: `${path}${query ? `?${query}` : ''}`,
        headers,
        payload: hasBody ? a.body : undefined,
      };
      const eventsBefore = await countRows(ctx().tdb.db.kysely, 'events');
      const leadsBefore = await leadCount();
      const res = await send(req);
      const code = checkAnswer(req, res.statusCode, res.headers, res.body);
      assert.equal(await countRows(ctx().tdb.db.kysely, 'events'), eventsBefore, explain(req, res));
      assert.equal(await leadCount(), leadsBefore, explain(req, res));
      if (code === undefined) assert.equal(a.auth, `Bearer ${ADMIN_TOKEN}`, `admin 2xx without the token: ${explain(req, res)}`);
      if (
        a.auth !== `Bearer ${ADMIN_TOKEN}` &&
        code !== undefined &&
        !['MALFORMED_REQUEST', 'NOT_FOUND', 'METHOD_NOT_ALLOWED'].includes(code)
      ) {
        assert.ok(['NULL_CREDENTIALS', 'MALFORMED_CREDENTIALS', 'WRONG_CREDENTIAL', 'TOO_MANY_REQUESTS'].includes(code), explain(req, res));
      }
    });
  });

  // ---- elsewhere: unknown paths, health, methods ----
  test('unknown paths and methods', async () => {
    const arb = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
      path: fc.oneof(
        fc.constantFrom(
          '/',
          '/healthz',
          '/readyz',
          '/openapi.json',
          '/metrics',
          '/console',
          '/console/',
          '/console/session',
          '/console/%2e%2e/%2e%2e/package.json',
          '/console/js/../../../package.json',
          '/console/js/%00.js',
          '/leads/v2/dealer',
          '/leads/v3/x',
          '/service-pre-diag/',
          '/admin/v1',
          '/admin/v1/nope',
          '/admin/v2/dealers',
          '/%zz',
          '/..%2f..%2fetc',
          '/leads/v2/dealer/d-1/lead/',
          `${EVENTS_URL}/`,
        ),
        hostileString.map((s) => `/${encodeURIComponent(s.replace(/[\ud800-\udfff]/g, 'x'))}`),
      ),
      auth: fc.option(fc.oneof(malformedBasic, fc.constant(`Bearer ${ADMIN_TOKEN}`)), { freq: 2 }),
      body: fc.option(hostileBody(chatObject), { freq: 2 }),
      contentType,
    });
    await run('elsewhere', arb, 0.05, async (o) => {
      const headers: Record<string, string> = {};
      if (o.auth !== null) headers.authorization = o.auth;
      if (o.contentType !== undefined) headers['content-type'] = o.contentType;
      const hasBody = o.method !== 'GET' && o.body !== null;
      const req: FuzzRequest = { method: o.method, url: o.path, headers, payload: hasBody ? (o.body ?? undefined) : undefined };
      const before = await countRows(ctx().tdb.db.kysely, 'events');
      const res = await send(req);
      checkAnswer(req, res.statusCode, res.headers, res.body);
      assert.equal(await countRows(ctx().tdb.db.kysely, 'events'), before, explain(req, res));
    });
  });

  // ---- a real socket: what only Node's parser sees ----
  test('a real socket: huge headers and URLs, bad request lines, bad percent-encoding', async () => {
    const app = ctx().app;
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as { port: number }).port;
    const target = fc.constantFrom(
      EVENTS_URL,
      `${EVENTS_URL}/x`,
      '/leads/v2/dealer/d-1',
      '/leads/v2/dealer/d-1/lead/p',
      '/admin/v1/dealers',
      '/healthz',
      '/nope',
    );
    const good = basic('multi-partner', PASSWORD);
    const arb = fc.oneof(
      // Huge header values and huge URLs (over and under 16 KB).
      fc
        .tuple(target, fc.constantFrom(1000, 15_000, 17_000, 40_000), fc.boolean())
        .map(([path, size, inUrl]) =>
          inUrl
            ? Buffer.from(`GET ${path}?${'q'.repeat(size)} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`)
            : Buffer.from(`GET ${path} HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(size)}\r\nConnection: close\r\n\r\n`),
        ),
      fc.tuple(target, fc.constantFrom(100, 300, 1000)).map(([path, n]) => {
        let head = `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n`;
        for (let k = 0; k < n; k++) head += `X-H${k}: v\r\n`;
        return Buffer.from(`${head}\r\n`);
      }),
      // Malformed request lines.
      fc
        .constantFrom(
          'GARBAGE\r\n\r\n',
          'GET\r\n\r\n',
          'GET / \r\n\r\n',
          'GET  / HTTP/1.1\r\nHost: x\r\n\r\n',
          'get / HTTP/1.1\r\nHost: x\r\n\r\n',
          'GET / HTTP/9.9\r\nHost: x\r\n\r\n',
          'GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n',
          'GET\t/\tHTTP/1.1\r\nHost: x\r\n\r\n',
          `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n`,
          `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n`,
          `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n`,
          `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nContent-Length: 1e3\r\n\r\n`,
          `POST ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`,
          `GET /healthz HTTP/1.1\r\nHost: x\r\n folded: header\r\n\r\n`,
          'GET /healthz HTTP/1.1\r\n\r\n',
          'GET /healthz HTTP/1.0\r\n\r\n',
          '\r\n\r\n',
          'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
          'CONNECT x:80 HTTP/1.1\r\nHost: x\r\n\r\n',
          `CONNECT ${EVENTS_URL} HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01\x00\x05hello`,
          'GET http://evil/healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
          'GET * HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        )
        .map((s) => Buffer.from(s, 'latin1')),
      fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')])),
      // Bad percent-encoding and odd bytes in the URL.
      fc
        .tuple(target, fc.constantFrom('%zz', '%', '%e0%a4', '%ED%A0%80', '%00', '%C0%80', '%%', '%2', '%u0041', '\u00ff', '%F4%90%80%80'))
        .map(([path, bad]) =>
          Buffer.from(`GET ${path}/${bad} HTTP/1.1\r\nHost: x\r\nAuthorization: ${good}\r\nConnection: close\r\n\r\n`, 'latin1'),
        ),
      // Bodies framed oddly: chunked (over the limit too), huge chunk sizes, Expect: 100-continue.
      fc
        .tuple(
          fc.constantFrom(EVENTS_URL, `${EVENTS_URL}/dry-run`, '/leads/v2/dealer/d-1', '/admin/v1/dealers'),
          fc.constantFrom(
            '5\r\n{"a":\r\n2\r\n1}\r\n0\r\n\r\n',
            `10000\r\n{"s":"${'x'.repeat(65_530)}"}\r\n0\r\n\r\n`,
            `8000\r\n${'x'.repeat(32_768)}\r\n8000\r\n${'x'.repeat(32_768)}\r\n8000\r\n${'x'.repeat(32_768)}\r\n0\r\n\r\n`,
            'FFFFFFFFFFFFFFFFFF\r\n',
            '2;ext="\x01"\r\n{}\r\n0\r\n\r\n',
            '2\r\n{}\r\n0\r\nTrailer: x\r\n\r\n',
          ),
          fc.constantFrom(basic('multi-partner', PASSWORD), `Bearer ${ADMIN_TOKEN}`, basic(LEAD_WRITER, PASSWORD)),
          fc.boolean(),
        )
        .map(([path, chunks, auth, expect]) =>
          Buffer.from(
            `POST ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n${expect ? 'Expect: 100-continue\r\n' : ''}Connection: close\r\n\r\n${chunks}`,
            'latin1',
          ),
        ),
      // Raw non-ASCII and control bytes in header values (Basic, Bearer, Idempotency-Key).
      fc
        .tuple(
          target,
          fc.constantFrom('Authorization', 'Idempotency-Key', 'Content-Type', 'Host', 'Cookie'),
          fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) =>
            Buffer.from(b)
              .toString('latin1')
              .replace(/[\r\n]/g, ''),
          ),
        )
        .map(([path, name, value]) =>
          Buffer.from(
            `POST ${path} HTTP/1.1\r\nHost: x\r\n${name}: Basic ${value}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`,
            'latin1',
          ),
        ),
    );
    const seed = SEED + 7 + (ctx().tdb.dialect === 'postgres' ? 100_000 : 0);
    try {
      await fc.assert(
        fc.asyncProperty(arb, async (bytes) => {
          const answer = await rawExchange(port, bytes);
          const pseudo: FuzzRequest = { method: 'RAW', url: requestTarget(bytes), headers: {}, payload: bytes.subarray(0, 300) };
          record(answer.status);
          // Acknowledgements over the socket count like any other.
          if (answer.status === 200 && answer.path === EVENTS_URL) {
            const requestId = (JSON.parse(answer.body) as { requestId: string }).requestId;
            if (!acknowledged.has(requestId)) {
              acknowledged.add(requestId);
              eventsAdded++;
            }
          }
          if (
            answer.status === 200 &&
            answer.path?.startsWith('/leads/') &&
            (JSON.parse(answer.body) as { isNewCreated?: boolean }).isNewCreated
          ) {
            leadsCreated++;
          }
          if (process.env.FUZZ_TRACE)
            appendFileSync(process.env.FUZZ_TRACE, `RAW ${JSON.stringify(bytes.subarray(0, 200).toString('latin1'))} → ${answer.status}\n`);
          const text = bytes.toString('latin1');
          // CONNECT (a tunnel, which the service never serves) is refused, not dropped.
          if (text.startsWith('CONNECT ')) assert.equal(answer.status, 405, `CONNECT not refused: ${explain(pseudo)}`);
          if (answer.status === 0) {
            // No answer at all is acceptable only where HTTP has nothing to answer: blank lines
            // before a request line (skipped by RFC 9112 §2.2).
            assert.ok(/^[\r\n]*$/.test(text), `no answer: ${explain(pseudo)}`);
            return;
          }
          assert.ok(answer.status < 500, `5xx over the socket: ${explain(pseudo)} → ${answer.status} ${answer.body.slice(0, 300)}`);
          if (answer.status >= 400 && answer.body !== '') {
            checkAnswer({ ...pseudo, url: answer.path ?? pseudo.url }, answer.status, answer.headers, answer.body);
          }
        }),
        { seed, numRuns: SOCKET_RUNS, endOnFailure: process.env.FUZZ_SHRINK !== '1' },
      );
    } catch (err) {
      throw new Error(
        `socket: reproduce with FUZZ_SEED=${SEED} (property seed ${seed})\n${(err as Error).message}\n${String((err as Error).cause ?? '')}`,
      );
    }
    // The process is up and serves a normal request on the same listener.
    const health = await rawExchange(port, Buffer.from('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    assert.equal(health.status, 200);
  });

  test('the pipeline takes every acknowledged event to PROCESSED or REJECTED, never FAILED', async () => {
    // Admin replays above may have reset some; the worker runs here, after the gate's fuzz.
    const worker = makeWorker(ctx().tdb.db, ctx().app.directory, { ...ctx().tdb.config.worker, maxAttempts: 1 });
    const report = await withTimeout(drain(worker), 120_000, 'the worker draining the fuzzed events');
    assert.equal(report.failed + report.retried, 0, JSON.stringify(report));
    const rows = await ctx()
      .tdb.db.kysely.selectFrom('events')
      .select(['request_id', 'status', 'last_error'])
      .where('status', 'not in', ['PROCESSED', 'REJECTED'])
      .execute();
    assert.deepEqual(rows, [], 'events left unprocessed or failed');
  });

  test('the process is up, and rows added equal the acknowledgements exactly', async (t) => {
    t.diagnostic(summary(ctx().tdb.dialect, stats));
    t.diagnostic(summary('so far in this run', total));
    const health = await ctx().app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
    assert.equal((await countRows(ctx().tdb.db.kysely, 'events')) - startEvents, eventsAdded);
    assert.equal((await leadCount()) - startLeads, leadsCreated);
    assert.ok(eventsAdded > 0 && leadsCreated > 0, 'the fuzz produced some valid requests too');
  });
});

// ---------------------------------------------------------------------------------------------

interface RawAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly path?: string;
}

function requestTarget(bytes: Buffer): string {
  const line = bytes.subarray(0, 2048).toString('latin1').split('\r\n', 1)[0] ?? '';
  return /^[A-Z]+ (\S+)/.exec(line)?.[1] ?? '';
}

/** Sends raw bytes, reads until the server closes (5 s at most: a hang fails). */
function rawExchange(port: number, request: Buffer): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
      reject(err);
    });
    socket.on('close', () => {
      // Interim answers (100 Continue) precede the answer; none at all is status 0.
      const answer = parseRawAnswer(Buffer.concat(chunks).toString('utf8'));
      if (answer.status === 0) {
        resolve({ status: 0, headers: {}, body: '' });
        return;
      }
      // The family of the answer is the one of the path Node read (the raw target may be garbage).
      const target = requestTarget(request);
      resolve({ status: answer.status, headers: answer.headers, body: answer.body, path: target.startsWith('/') ? target : '' });
    });
    socket.setTimeout(5000, () =>
      socket.destroy(new Error(`hang: no answer within 5 s to ${JSON.stringify(request.subarray(0, 200).toString('latin1'))}`)),
    );
    // The request, then a half-close at once: the answer must still come (it did not, and the
    // gate stored events it never acknowledged, before the server allowed half-open sockets).
    socket.end(request);
  });
}
