// An unsupported Node.js is refused at start with one line naming the supported versions, before
// anything else runs. The machines ship Node.js 20 (/usr/bin/node) while the suite runs on the
// pinned 24 or 26 (scripts/toolchain.sh): that older binary starts the real bin here.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { BIN } from '../helpers/cli.js';

const major = (version: string) => Number(version.replace(/^v/, '').split('.')[0]);

/** A Node.js older than 24 on this machine, if there is one. */
function olderNode(): { path: string; version: string } | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(path)) continue;
    const run = spawnSync(path, ['--version'], { encoding: 'utf8' });
    const version = run.stdout.trim();
    if (run.status === 0 && major(version) < 24) return { path, version };
  }
  return undefined;
}

const older = olderNode();

test('the suite itself runs on a supported Node.js (24 or newer)', () => {
  assert.ok(major(process.version) >= 24, `running on ${process.version}`);
});

test('an older Node.js is refused with one line naming the supported versions, and exit 1', {
  skip: older === undefined && 'no Node.js older than 24 on this machine',
}, () => {
  const { path, version } = older as { path: string; version: string };
  const run = spawnSync(path, [BIN, 'serve'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, PORT: '0' } });
  assert.equal(run.status, 1, run.stderr);
  assert.equal(run.stdout, '');
  assert.equal(
    run.stderr,
    `dealer-gateway needs Node.js 24 or newer (the supported LTS lines are 24 and 26); this is Node.js ${version.replace(/^v/, '')}\n`,
  );
});
