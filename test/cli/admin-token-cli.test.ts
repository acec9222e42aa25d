// The admin token as an operator meets it: `serve` without ADMIN_TOKEN prints a generated token
// once on stderr (never in the JSON log) with the console's URL, later starts keep it, and
// `admin-token --rotate` replaces it. Real processes, on a SQLite file.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exited, freePort, isRunning, run, show, start } from '../helpers/cli.js';

async function serveUntilReady(env: Record<string, string>) {
  const port = await freePort();
  const server = start(['serve'], { ...env, PORT: String(port), HOST: '127.0.0.1' });
  const exit = exited(server);
  exit.catch(() => {});
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (!isRunning(server) || Date.now() > deadline) {
      throw new Error(`serve did not become ready\nstdout: ${server.output.stdout}\nstderr: ${server.output.stderr}`);
    }
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const status = (token: string) =>
    fetch(`${base}/admin/v1/events?limit=1`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
  const stop = async () => {
    server.kill('SIGTERM');
    return exit;
  };
  return { server, port, status, stop };
}

describe('cli: the admin token', () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dg-admin-token-'));
    env = { DATABASE_URL: `sqlite:${join(dir, 'gw.db')}`, WORKER_ENABLED: 'false' };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('generated and printed once, kept across restarts, replaced by admin-token --rotate', async () => {
    const first = await serveUntilReady(env);
    const printed = /^ {2}(dgw_[A-Za-z0-9_-]{43})$/m.exec(first.server.output.stderr)?.[1];
    assert.ok(printed, `a token on stderr:\n${first.server.output.stderr}`);
    assert.ok(!first.server.output.stdout.includes(printed), 'never in the JSON log');
    // Beside it, where to use it: the console on the bound address.
    const consoleAt = `http://127.0.0.1:${first.port}/console`;
    assert.ok(first.server.output.stderr.includes(`Operator console: ${consoleAt}`), `the console URL:\n${first.server.output.stderr}`);
    assert.equal((await fetch(consoleAt)).status, 200);
    assert.match(first.server.output.stdout, /generated an admin token/);
    assert.equal(await first.status(printed), 200);
    assert.equal(await first.status(`${printed}x`), 401);
    assert.equal((await first.stop()).code, 0);

    const second = await serveUntilReady(env);
    assert.ok(!/dgw_/.test(second.server.output.stderr), 'not printed again');
    assert.equal(await second.status(printed), 200, 'the same token after a restart');
    const r = await second.stop();
    assert.ok(!r.stdout.includes(printed), show(r));

    const rotated = await run(['admin-token', '--rotate'], env);
    assert.equal(rotated.code, 0, show(rotated));
    const fresh = rotated.stdout.trim();
    assert.match(fresh, /^dgw_[A-Za-z0-9_-]{43}$/);
    const third = await serveUntilReady(env);
    assert.equal(await third.status(fresh), 200);
    assert.equal(await third.status(printed), 401, 'the old token stopped working');
    await third.stop();

    const chosen = await serveUntilReady({ ...env, ADMIN_TOKEN: 'an-operator-chosen-token-of-length' });
    assert.equal(await chosen.status('an-operator-chosen-token-of-length'), 200, 'ADMIN_TOKEN wins');
    assert.equal(await chosen.status(fresh), 401);
    await chosen.stop();
  });

  test('admin-token without --rotate explains itself and exits 2', async () => {
    const r = await run(['admin-token'], env);
    assert.equal(r.code, 2, show(r));
    assert.match(r.stderr, /Usage: dealer-gateway admin-token --rotate/);
  });
});
