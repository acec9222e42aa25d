// The README's "A three-minute tour", pasted as one block: its shell blocks (after the one that
// starts the service) run in one bash against a real `serve` child on a free port, with `npx
// dealer-gateway` as a reader would type it, and every answer the README shows (`# …` lines)
// must appear in the output, in order. `…` in the README stands for any text; times, ids and
// epoch milliseconds may differ. Needs bash, curl and jq, as the tour does (skipped, saying so,
// without them).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT } from '../helpers/cli.js';
import { freePort } from '../helpers/ports.js';
import { killHard, type ServiceProcess, startService, waitReady } from '../helpers/service-process.js';

const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const HEADING = '## A three-minute tour';
const TOKEN = 'readme-tour-admin-token-0123456789';

/** The tour's shell blocks, the first (install and start) left out: the test starts the service. */
function tourBlocks(): string[] {
  const start = README.indexOf(`\n${HEADING}\n`);
  assert.ok(start >= 0, `README.md has a "${HEADING}" section`);
  const section = README.slice(start + HEADING.length + 2).split(/\n## /)[0] ?? '';
  const blocks = [...section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => String(m[1]));
  assert.match(blocks[0] ?? '', /npm start/, 'the first block of the tour starts the service');
  return blocks.slice(1);
}

/**
 * The answers a block shows: each `# ` line is one line of output; a `#  ` line (two spaces)
 * continues the line above, wrapped for the page.
 */
function expectedLines(block: string): string[] {
  const lines: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith('#  ') && lines.length > 0) lines[lines.length - 1] += line.slice(3);
    else if (line.startsWith('# ')) lines.push(line.slice(2));
  }
  return lines;
}

/** What may differ from run to run, made equal; runs of spaces (aligned columns) become one. */
const normalize = (text: string) =>
  text
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<time>')
    .replace(/\b[0-9a-f]{8}-[0-9a-f-]*/g, '<id>')
    .replace(/\b\d{13}\b/g, '<ms>')
    .replace(/[ \t]+/g, ' ')
    .replace(/ $/gm, '');

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** One expected line as a whole-line pattern; `…` is any text on that line. */
const linePattern = (line: string) => new RegExp(`^${normalize(line).split('…').map(escapeRegExp).join('.*?')}$`, 'gm');

function missing(output: string, expected: readonly string[]): string | undefined {
  const text = normalize(output);
  let from = 0;
  for (const line of expected) {
    const pattern = linePattern(line);
    pattern.lastIndex = from;
    const match = pattern.exec(text);
    if (match === null) return line;
    from = match.index + match[0].length;
  }
  return undefined;
}

const lacking = ['bash', 'curl', 'jq', 'npx'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
const dir = mkdtempSync(join(tmpdir(), 'dg-tour-'));
let service: ServiceProcess | undefined;

after(async () => {
  if (service) await killHard(service);
  rmSync(dir, { recursive: true, force: true });
});

test('the expectations are read from the README', () => {
  const expected = tourBlocks().flatMap(expectedLines);
  assert.ok(expected.length >= 10, `only ${expected.length} expected lines found`);
  assert.ok(expected.some((line) => line.includes('"saveCount":2')));
  assert.equal(
    missing('{"a":"019af2c1-5c1e-7a42-9f3d-2c6e8b1d4f70","t":1795378615701}', ['{"a":"6e172a59-…","t":1795455579884}']),
    undefined,
  );
  assert.equal(missing('RECEIVED AT  x', ['RECEIVED']), 'RECEIVED', 'whole lines only');
});

test('the tour, pasted as one block into bash, shows what the README says', { timeout: 180_000 }, async (t) => {
  if (lacking.length > 0) {
    t.skip(`the tour needs ${lacking.join(', ')}`);
    return;
  }
  const port = await freePort();
  const database = `sqlite:${join(dir, 'data', 'dealer-gateway.db')}`;
  service = startService('serve', ['serve'], { PORT: String(port), DATABASE_URL: database, ADMIN_TOKEN: TOKEN, LOG_LEVEL: 'warn' });
  await waitReady(service, port);

  const blocks = tourBlocks();
  const script = blocks.join('\n').replaceAll('http://127.0.0.1:8080', `http://127.0.0.1:${port}`);
  const { NODE_TEST_CONTEXT: _ignored, ...env } = process.env;
  const shell = spawn('bash', ['-c', `exec 2>&1\n${script}`], {
    cwd: ROOT,
    env: { ...env, TOKEN, DATABASE_URL: database },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let output = '';
  shell.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve) => shell.on('close', resolve));

  assert.doesNotMatch(output, /command not found|syntax error/, output);
  assert.equal(code, 0, output);
  const line = missing(output, blocks.flatMap(expectedLines));
  assert.equal(line, undefined, `the README shows\n  ${line}\nbut the tour printed (normalized):\n${normalize(output)}`);
});
