// docs/api.md documents every error and warning code, and nothing else: code and docs agree.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES, httpStatusOf } from '../../src/core/errors.js';
import { PIPELINE_ERROR_CODES, PIPELINE_WARNING_CODES } from '../../src/eventlog/event-codes.js';

const doc = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');

/** The first-column codes of the table under a `##`/`###` heading. */
function tableUnder(heading: string): Map<string, string> {
  const start = doc.indexOf(`${heading}\n`);
  assert.ok(start >= 0, `docs/api.md has a "${heading}" section`);
  const section = doc.slice(start + heading.length).split(/\n#{2,3} /)[0] ?? '';
  return new Map([...section.matchAll(/^\| `([A-Z_]+)` \| ([^|]+) \|/gm)].map((m) => [String(m[1]), String(m[2]).trim()]));
}

const sections = [
  { heading: '## Error codes', codes: ERROR_CODES as readonly string[] },
  { heading: '### Pipeline error codes', codes: PIPELINE_ERROR_CODES as readonly string[] },
  { heading: '### Pipeline warning codes', codes: PIPELINE_WARNING_CODES as readonly string[] },
];

test('every HTTP error code is documented with its status', () => {
  const documented = tableUnder('## Error codes');
  for (const code of ERROR_CODES) assert.equal(documented.get(code), String(httpStatusOf(code)), `docs/api.md: ${code}`);
});

for (const { heading, codes } of sections) {
  test(`"${heading}" lists exactly the codes in the source`, () => {
    assert.deepEqual([...tableUnder(heading).keys()].sort(), [...codes].sort());
  });
}
