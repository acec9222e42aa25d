// scripts/toolchain.sh, the one command that gives a contributor (and CI) the pinned Node.js: it
// prints an environment whose node is the supported line asked for, with its headers for
// node-gyp, and refuses a line we do not support. The download happens once per checkout
// (.toolchain/); CI has already made it by the time the suite runs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/cli.js';

const SCRIPT = join(ROOT, 'scripts', 'toolchain.sh');
const run = (...args: string[]) => spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 180_000 });

test('with no argument it gives the line .nvmrc names: a node of that version, first on PATH, with headers', () => {
  const result = run();
  assert.equal(result.status, 0, result.stderr);
  const path = /^export PATH="([^"]+)\/bin:\$PATH"$/m.exec(result.stdout)?.[1];
  const nodedir = /^export npm_config_nodedir="([^"]+)"$/m.exec(result.stdout)?.[1];
  assert.ok(path !== undefined && nodedir === path, result.stdout);
  const line = readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim();
  const version = spawnSync(join(path, 'bin', 'node'), ['--version'], { encoding: 'utf8' }).stdout.trim();
  assert.match(version, new RegExp(`^v${line}\\.`));
  assert.ok(existsSync(join(nodedir, 'include', 'node', 'node.h')), 'node-gyp finds the headers there');
});

test('a line that is not supported is refused with exit 2 and a reason', () => {
  const result = run('20');
  assert.equal(result.status, 2);
  assert.equal(result.stdout, '');
  assert.match(result.stderr, /supported lines are 24 and 26, not '20'/);
});
