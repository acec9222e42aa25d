// docs/operations.md's "Configuration reference" lists exactly the environment variables
// src/core/config.ts reads, with the defaults and ranges the code applies: the table cannot drift.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const source = readFileSync(new URL('../../src/core/config.ts', import.meta.url), 'utf8');
const doc = readFileSync(new URL('../../docs/operations.md', import.meta.url), 'utf8');
const HEADING = '## Configuration reference';

// How config.ts reads a variable: integer(env, 'NAME', …), boolean(env, 'NAME', …),
// networkList(env, 'NAME'), env.NAME
// (env.NAME?.trim(), parseTrustProxy(env.TRUST_PROXY)) — and env['NAME'], should it ever be used.
const READS = [
  /\b(?:integer|boolean|networkList)\(\s*env,\s*'([A-Z][A-Z0-9_]*)'/g,
  /\benv\.([A-Z][A-Z0-9_]*)\b/g,
  /\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
];
/** integer(env, 'NAME', fallback, min, max): the numbers are literals such as 1024 * 1024 or 60_000. */
const INTEGER_READ = /\binteger\(\s*env,\s*'([A-Z][A-Z0-9_]*)',\s*([^,]+),\s*([^,]+),\s*([^)]+)\)/g;

function readNames(): Set<string> {
  return new Set(READS.flatMap((pattern) => [...source.matchAll(pattern)].map((m) => String(m[1]))));
}

/** A numeric literal of config.ts: digits with optional `_` separators, multiplied together. */
function literal(name: string, text: string): number {
  const factors = text.split('*').map((part) => part.trim().replaceAll('_', ''));
  assert.ok(
    factors.every((f) => /^\d+$/.test(f)),
    `src/core/config.ts: ${name}: cannot read "${text.trim()}" as a number (extend this test's literal())`,
  );
  return factors.reduce((product, f) => product * Number(f), 1);
}

interface Row {
  readonly defaultCell: string;
  readonly valuesCell: string;
}

/** The table under "## Configuration reference": variable → its Default and Values cells. */
function documented(): Map<string, Row> {
  const start = doc.indexOf(`\n${HEADING}\n`);
  assert.ok(start >= 0, `docs/operations.md has a "${HEADING}" section`);
  const section = doc.slice(start + HEADING.length + 2).split(/\n## /)[0] ?? '';
  const rows = [...section.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \| ([^|]*) \|/gm)];
  return new Map(rows.map((m) => [String(m[1]), { defaultCell: String(m[2]), valuesCell: String(m[3]) }]));
}

const numbersIn = (cell: string) => (cell.match(/\d+/g) ?? []).map(Number);

test('the patterns find the variables src/core/config.ts reads', () => {
  const names = readNames();
  for (const name of ['DATABASE_URL', 'PORT', 'HOST', 'LOG_LEVEL', 'WORKER_ENABLED', 'TRUST_PROXY', 'ADMIN_TOKEN']) {
    assert.ok(names.has(name), `${name} is read by src/core/config.ts but the patterns here did not find it`);
  }
  assert.ok(names.size >= 25, `only ${names.size} variables found in src/core/config.ts`);
});

test('every variable src/core/config.ts reads is in the configuration table of docs/operations.md', () => {
  const table = documented();
  const missing = [...readNames()].filter((name) => !table.has(name)).sort();
  assert.deepEqual(missing, [], `add these to the table in docs/operations.md: ${missing.join(', ')}`);
});

test('the table lists no variable src/core/config.ts does not read', () => {
  const names = readNames();
  const extra = [...documented().keys()].filter((name) => !names.has(name)).sort();
  assert.deepEqual(extra, [], `not read by src/core/config.ts: ${extra.join(', ')}`);
});

test('each whole-number variable has the default and the range the code applies', () => {
  const table = documented();
  const integers = [...source.matchAll(INTEGER_READ)];
  assert.ok(integers.length >= 20, `only ${integers.length} integer(env, …) reads found in src/core/config.ts`);
  for (const m of integers) {
    const name = String(m[1]);
    const [min, max] = [m[3], m[4]].map((text) => literal(name, String(text)));
    const row = table.get(name);
    if (row === undefined) continue; // reported by the test above
    const fallbackText = String(m[2]).trim();
    if (/^[a-z]\w*$/.test(fallbackText)) {
      // A default derived from another variable (a local of loadConfig): the cell names that variable.
      assert.match(row.defaultCell, /`[A-Z][A-Z0-9_]*`/, `${name}: the Default cell should name the variable its default derives from`);
    } else {
      const fallback = literal(name, fallbackText);
      assert.ok(numbersIn(row.defaultCell).includes(fallback), `${name}: the Default cell should say ${fallback}`);
    }
    const values = numbersIn(row.valuesCell);
    assert.ok(values.includes(min as number) && values.includes(max as number), `${name}: the Values cell should say ${min}–${max}`);
  }
});

test('every variable src/core/config.ts reads is named by `serve --help` or `worker --help`', async () => {
  const { serveCommand } = await import('../../src/cli/serve.command.js');
  const { workerCommand } = await import('../../src/cli/worker.command.js');
  const help = `${serveCommand.help}\n${workerCommand.help}`;
  const missing = [...readNames()].filter((name) => !new RegExp(`\\b${name}\\b`).test(help));
  assert.deepEqual(missing, [], 'add them to the help text in src/cli/serve.command.ts (or worker.command.ts)');
});
