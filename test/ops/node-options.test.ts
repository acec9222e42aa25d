// The node options the service runs with (the request thread's young generation capped, see the
// #! line of bin/dealer-gateway.js and docs/performance.md): they come from the #! line when the
// CLI is run as a program, and `npm start` passes the same ones.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { BIN, ROOT } from '../helpers/cli.js';

const shebangOptions = () => (readFileSync(BIN, 'utf8').split('\n', 1)[0] ?? '').split(' ').filter((word) => word.startsWith('--'));

test('the #! line names node with the young-generation cap', () => {
  assert.deepEqual(shebangOptions(), ['--max-semi-space-size=8']);
});

test('`npm start` runs node with the same options as the #! line', () => {
  const start: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start;
  const words = start.split(' ');
  const options = words.slice(words.indexOf('scripts/node.sh') + 1, words.indexOf('bin/dealer-gateway.js'));
  assert.deepEqual(options, shebangOptions());
});

test('run as a program, `serve` is a node process with those options on its command line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dgw-node-options-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const child = spawn(BIN, ['serve'], {
    env: { ...process.env, DATABASE_URL: `sqlite:${join(dir, 'db.sqlite')}`, PORT: '0', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line within 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Server listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}:\n${output}`)));
  });
  const commandLine = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0');
  assert.ok(commandLine.includes('--max-semi-space-size=8'), commandLine.join(' '));
  child.kill('SIGTERM');
});
