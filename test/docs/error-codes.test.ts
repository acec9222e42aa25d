// docs/api.md documents every error code with its status, and nothing else: code and docs agree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, httpStatusOf } from '../../src/errors.js';

const section = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8').split('## Error codes')[1] ?? '';
const documented = new Map([...section.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [String(m[1]), Number(m[2])]));

test('every error code is documented in docs/api.md with its HTTP status', () => {
  for (const code of ERROR_CODES) {
    assert.equal(documented.get(code), httpStatusOf(code), `docs/api.md: ${code}`);
  }
});

test('docs/api.md documents no code that does not exist', () => {
  const known = new Set<string>(ERROR_CODES);
  assert.deepEqual(
    [...documented.keys()].filter((c) => !known.has(c)),
    [],
  );
});
