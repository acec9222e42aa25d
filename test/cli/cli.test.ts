// The `dealer-gateway` command line, run for real as a child process: exit codes, usage texts,
// `migrate`, `apply`, `hash-password`, and a smoke test of `serve` with a graceful SIGTERM.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isPasswordHash, verifyPassword } from '../../src/auth/password.js';
import { loadConfig } from '../../src/core/config.js';
import type { Dialect } from '../../src/db/connect.js';
import { openDatabase } from '../../src/db/open.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { exited, freePort, isRunning, killAll, ROOT, run, show, start } from '../helpers/cli.js';
import { adminQuery, createTestDatabase, testDialects } from '../helpers/databases.js';

const DEMO = join(ROOT, 'examples', 'demo.json');
const DEMO_DOC = JSON.parse(readFileSync(DEMO, 'utf8')) as {
  dealers: unknown[];
  subscribers: unknown[];
  customers: { vehicles?: unknown[] }[];
};
const DEMO_COUNTS = {
  dealers: DEMO_DOC.dealers.length,
  subscribers: DEMO_DOC.subscribers.length,
  customers: DEMO_DOC.customers.length,
  vehicles: DEMO_DOC.customers.reduce((n, c) => n + (c.vehicles?.length ?? 0), 0),
};
const COMMANDS = ['serve', 'migrate', 'apply', 'hash-password'] as const;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** The JSON log lines of a service's stdout (other lines are skipped). */
function logLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The startup line of `serve`: the info line that carries the version. */
function startupLine(stdout: string): Record<string, unknown> {
  const line = logLines(stdout).find((l) => l.level === 30 && 'version' in l && 'listen' in l);
  assert.ok(line, `no startup line in\n${stdout}`);
  return line;
}

const pgAdmin = adminQuery;

/**
 * Polls GET /healthz until it answers 200, or fails after 30 s (or when the server exits). The
 * deadline bounds a hang: a first start took over 10 s on a CI machine running four files at once.
 */
async function awaitHealthy(server: ReturnType<typeof start>, base: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && isRunning(server)) {
    try {
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`GET /healthz did not answer 200 within 30 s\nstdout: ${server.output.stdout}\nstderr: ${server.output.stderr}`);
}

/** A database nothing has touched yet (not migrated), and how to remove it. */
async function freshDatabase(dialect: Dialect): Promise<{ url: string; drop: () => Promise<void> }> {
  const tdb = await createTestDatabase(dialect, {}, { migrate: false });
  return { url: tdb.url, drop: () => tdb.destroy() };
}

// ---------------------------------------------------------------------------------------------

describe('cli: usage', { concurrency: 4 }, () => {
  let dir: string;
  let env: Record<string, string>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dg-cli-usage-'));
    // None of these commands may touch a database; if one did, it would be this throwaway file.
    env = { DATABASE_URL: `sqlite:${join(dir, 'untouched.db')}` };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('--help prints the usage with every command and exits 0', async () => {
    const r = await run(['--help'], env);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage: dealer-gateway <command>/);
    for (const name of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${name} +\\S`, 'm'), `lists ${name}`);
    assert.equal(r.stderr, '');
  });

  test('no command prints the usage and exits 0', async () => {
    const r = await run([], env);
    assert.equal(r.code, 0, show(r));
    assert.match(r.stdout, /^Usage: dealer-gateway <command>/);
    assert.equal(r.stderr, '');
  });

  for (const flag of ['--version', '-v']) {
    test(`${flag} prints the version and exits 0`, async () => {
      const r = await run([flag], env);
      assert.equal(r.code, 0, show(r));
      assert.equal(r.stdout, `${VERSION}\n`);
      assert.equal(r.stderr, '');
    });
  }

  test('node dist/cli/main.js runs the compiled CLI directly (what a container image runs)', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${VERSION}\n`);
    const usage = spawnSync(process.execPath, [join(ROOT, 'dist', 'cli', 'main.js'), 'no-such-command'], { encoding: 'utf8' });
    assert.equal(usage.status, 2);
    assert.match(usage.stderr, /unknown command "no-such-command"/);
  });

  for (const name of COMMANDS) {
    test(`${name} --help prints its usage and exits 0`, async () => {
      const r = await run([name, '--help'], env);
      assert.equal(r.code, 0, show(r));
      assert.match(r.stdout, new RegExp(`^Usage: dealer-gateway ${name}\\b`));
      assert.equal(r.stderr, '');
    });
  }

  test('an unknown command exits 2: one line naming it, then the usage, on stderr', async () => {
    const r = await run(['frobnicate'], env);
    assert.equal(r.code, 2, show(r));
    const [first, blank, ...usage] = r.stderr.split('\n');
    assert.equal(first, 'dealer-gateway: unknown command "frobnicate"');
    assert.equal(blank, '');
    assert.match(usage.join('\n'), /^Usage: dealer-gateway <command>/);
    assert.equal(r.stdout, '');
  });

  test('an unknown top-level option exits 2 naming it', async () => {
    const r = await run(['--frob'], env);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr.split('\n')[0], 'dealer-gateway: unknown option --frob');
  });

  for (const [command, option] of [
    ['migrate', '--bogus'],
    ['events', '--colour'],
    ['serve', '--port'],
  ] as const) {
    test(`${command} ${option}: an unknown option exits 2, one line naming it, then the command usage`, async () => {
      const r = await run([command, option], env);
      assert.equal(r.code, 2, show(r));
      const [first, blank, ...usage] = r.stderr.split('\n');
      assert.equal(first, `dealer-gateway ${command}: unknown option ${option}`);
      assert.equal(blank, '');
      assert.match(usage.join('\n'), new RegExp(`^Usage: dealer-gateway ${command}\\b`));
      assert.equal(r.stdout, '');
    });
  }

  test('apply without a FILE is a usage error: exit 2, one line, then its usage', async () => {
    const r = await run(['apply'], env);
    assert.equal(r.code, 2, show(r));
    assert.equal(r.stderr.split('\n')[0], 'dealer-gateway apply: expected exactly one FILE');
    assert.match(r.stderr, /Usage: dealer-gateway apply FILE/);
  });

  for (const action of ['list', 'show']) {
    test(`events ${action} refuses to create a missing SQLite file (exit 1, naming it and DATABASE_URL)`, async () => {
      const missing = join(dir, `missing-${action}`, 'events.db');
      const r = await run(['events', action, ...(action === 'show' ? ['some-id'] : [])], { DATABASE_URL: `sqlite:${missing}` });
      assert.equal(r.code, 1, show(r));
      assert.equal(r.stdout, '');
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines[0], `database: sqlite ${missing}`);
      assert.equal(lines.length, 2, 'one line of error after the database line');
      assert.ok(lines[1]?.includes(missing), show(r));
      assert.match(lines[1] ?? '', /DATABASE_URL/);
      assert.equal(existsSync(missing), false, 'no file created');
      assert.equal(existsSync(join(dir, `missing-${action}`)), false, 'no directory created');
    });
  }

  test('events list against a PostgreSQL it cannot reach exits 1 naming DATABASE_URL', async () => {
    const port = await freePort();
    const r = await run(['events', 'list'], { DATABASE_URL: `postgres://nobody-here@127.0.0.1:${port}/nowhere` });
    assert.equal(r.code, 1, show(r));
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines[0], `database: postgres 127.0.0.1:${port}/nowhere`);
    assert.match(lines[1] ?? '', /^dealer-gateway events: cannot reach .*DATABASE_URL/);
    assert.ok(!r.stderr.includes('nobody-here'), 'the user name is not shown');
  });

  test('apply of a file that does not exist exits 1 naming the file', async () => {
    const missing = join(dir, 'no-such-file.json');
    const r = await run(['apply', missing], env);
    assert.equal(r.code, 1, show(r));
    assert.ok(r.stderr.includes(missing), show(r));
    assert.match(r.stderr, /ENOENT|no such file/i);
  });

  test('apply of a file that is not JSON exits 1 naming the file', async () => {
    const broken = join(dir, 'broken.json');
    writeFileSync(broken, '{ "dealers": [ { "uuid": "d-1", ');
    const r = await run(['apply', broken], env);
    assert.equal(r.code, 1, show(r));
    assert.ok(r.stderr.includes(broken), show(r));
    assert.match(r.stderr, /not valid JSON/);
  });

  test('hash-password reads the first line of stdin and prints a hash verifyPassword accepts', async () => {
    const r = await run(['hash-password'], env, 'piped-secret-1\nsecond line is ignored\n');
    assert.equal(r.code, 0, show(r));
    const hash = r.stdout.trim();
    assert.equal(r.stdout, `${hash}\n`, 'prints exactly one line');
    assert.equal(isPasswordHash(hash), true, hash);
    assert.equal(await verifyPassword('piped-secret-1', hash), true);
    assert.equal(await verifyPassword('second line is ignored', hash), false);
    assert.ok(!r.stdout.includes('piped-secret-1') && !r.stderr.includes('piped-secret-1'));
  });

  test('hash-password accepts a password without a trailing newline, and CRLF input', async () => {
    const [plain, crlf] = await Promise.all([
      run(['hash-password'], env, 'no-newline-pass'),
      run(['hash-password'], env, 'crlf-line-pass\r\n'),
    ]);
    assert.equal(plain.code, 0, show(plain));
    assert.equal(await verifyPassword('no-newline-pass', plain.stdout.trim()), true);
    assert.equal(crlf.code, 0, show(crlf));
    assert.equal(await verifyPassword('crlf-line-pass', crlf.stdout.trim()), true);
  });

  test('hash-password refuses a password shorter than 8 characters (exit 1)', async () => {
    const r = await run(['hash-password'], env, 'short\n');
    assert.equal(r.code, 1, show(r));
    assert.match(r.stderr, /at least 8 characters/);
    assert.equal(r.stdout, '');
  });
});

// ---------------------------------------------------------------------------------------------

for (const dialect of testDialects()) {
  describe(`cli: against a fresh database [${dialect}]`, () => {
    let url: string;
    let drop: (() => Promise<void>) | undefined;
    let dir: string;
    const env = () => ({ DATABASE_URL: url });

    before(async () => {
      ({ url, drop } = await freshDatabase(dialect));
      dir = mkdtempSync(join(tmpdir(), 'dg-cli-files-'));
    });
    after(async () => {
      killAll();
      await drop?.();
      rmSync(dir, { recursive: true, force: true });
    });

    test('migrate on a fresh database applies the migrations and exits 0; again, it is up to date', async () => {
      const first = await run(['migrate'], env());
      assert.equal(first.code, 0, show(first));
      const where = new URL(url.replace(/^sqlite:/, 'file:'));
      assert.equal(
        first.stderr.split('\n')[0],
        dialect === 'sqlite'
          ? `database: ${url.replace(/^sqlite:/, 'sqlite ')}`
          : `database: postgres ${where.hostname}:${where.port || 5432}${where.pathname}`,
      );
      assert.ok(dialect === 'sqlite' || !first.stderr.includes(`${where.username}@`), 'no user name');
      assert.match(first.stdout, /^applied 0001_foundation$/m);
      const second = await run(['migrate'], env());
      assert.equal(second.code, 0, show(second));
      assert.match(second.stdout, /database is up to date/);
      assert.doesNotMatch(second.stdout, /^applied/m);
    });

    test('apply examples/demo.json exits 0 and prints the counts; a second run prints "no changes"', async () => {
      const first = await run(['apply', 'examples/demo.json'], env());
      assert.equal(first.code, 0, show(first));
      assert.match(first.stdout, /^applied \(provisioning revision 1\)$/m);
      for (const [kind, n] of Object.entries(DEMO_COUNTS)) {
        assert.match(first.stdout, new RegExp(`^ +${kind} +${n} created, 0 updated, 0 unchanged$`, 'm'), show(first));
      }
      assert.ok(!first.stdout.includes('s3cret-pass'), 'the report does not echo passwords');

      const second = await run(['apply', DEMO], env());
      assert.equal(second.code, 0, show(second));
      assert.match(second.stdout, /^no changes \(provisioning revision 1\)$/m);
      for (const [kind, n] of Object.entries(DEMO_COUNTS)) {
        assert.match(second.stdout, new RegExp(`^ +${kind} +0 created, 0 updated, ${n} unchanged$`, 'm'), show(second));
      }
    });

    test('apply of a bad document exits 1, names each offending path, and writes nothing', async () => {
      const bad = join(dir, 'bad.json');
      writeFileSync(
        bad,
        JSON.stringify({
          dealers: [{ uuid: 'd-cli-new', name: 'Would Be New' }, { uuid: 'd-cli-nameless' }],
          customers: [{ dealer: 'd-nowhere', uuid: 'c-cli' }],
        }),
      );
      const r = await run(['apply', bad], env());
      assert.equal(r.code, 1, show(r));
      assert.match(r.stderr, /dealers\[1\]\.name/);
      assert.equal(r.stdout, '');

      // Only a shape error was reported above (the reference check comes after the shape); fix it
      // and the unknown dealer is named. Either way nothing was written: demo.json still applies as a no-op.
      writeFileSync(
        bad,
        JSON.stringify({ dealers: [{ uuid: 'd-cli-new', name: 'Would Be New' }], customers: [{ dealer: 'd-nowhere', uuid: 'c-cli' }] }),
      );
      const again = await run(['apply', bad], env());
      assert.equal(again.code, 1, show(again));
      assert.match(again.stderr, /customers\[0\]\.dealer/);
      assert.match(again.stderr, /d-nowhere/);

      const check = await run(['apply', DEMO], env());
      assert.equal(check.code, 0, show(check));
      assert.match(check.stdout, /^no changes \(provisioning revision 1\)$/m);
    });

    test('serve: answers /healthz, saves a lead with the demo credentials, and exits 0 on SIGTERM', async () => {
      // Self-contained: make sure the database holds the demo provisioning.
      const db = await openDatabase(loadConfig({ DATABASE_URL: url }));
      try {
        await applyProvisioning(db.kysely, DEMO_DOC);
      } finally {
        await db.close();
      }

      // PostgreSQL: as a user of its own (password-less), whose name must not be logged.
      const role = `dg_cli_user_${process.pid}`;
      let serveUrl = url;
      if (dialect === 'postgres') {
        await pgAdmin(`DROP ROLE IF EXISTS ${role}; CREATE ROLE ${role} LOGIN SUPERUSER`);
        const u = new URL(url);
        u.username = role;
        u.password = '';
        serveUrl = u.toString();
      }
      const port = await freePort();
      const server = start(['serve'], { DATABASE_URL: serveUrl, PORT: String(port), HOST: '127.0.0.1' });
      const exit = exited(server);
      exit.catch(() => {}); // Awaited below; if an assertion fails first, `after` kills the server.
      const base = `http://127.0.0.1:${port}`;
      await awaitHealthy(server, base);

      const started = startupLine(server.output.stdout);
      assert.equal(started.version, VERSION);
      assert.equal(started.worker, true);
      assert.equal(started.listen, `127.0.0.1:${port}`);
      if (dialect === 'sqlite') {
        assert.deepEqual(started.database, { kind: 'sqlite', path: url.slice('sqlite:'.length) });
      } else {
        const u = new URL(url);
        assert.deepEqual(started.database, { kind: 'postgres', host: u.hostname, port: Number(u.port || 5432), name: u.pathname.slice(1) });
        assert.ok(!server.output.stdout.includes(role), `the user name is not logged\n${server.output.stdout}`);
        assert.ok(!server.output.stderr.includes(role), 'nor on stderr');
      }
      assert.ok(
        !logLines(server.output.stdout).some((l) => l.level === 40 && /no partner/.test(String(l.msg))),
        'partners are provisioned: no warning',
      );

      const res = await fetch(`${base}/leads/v2/dealer/d-1`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Basic ${Buffer.from('acme-ai:s3cret-pass').toString('base64')}`,
        },
        body: JSON.stringify({
          customer: { uuid: 'c-1' },
          vehicle: { uuid: 'v-1' },
          dealerDetails: { source: 'MMC' },
          services: [{ code: 'MBVANS-A', dueDate: '2023-06-01' }],
          status: 'NEW',
          lastContactDate: '2023-06-08 11:00:00Z',
          leadId: `cli-smoke-${dialect}`,
          leadType: 'RECALL',
        }),
      });
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(res.status, 200, JSON.stringify(body));
      assert.equal(body.error, null);
      assert.equal(body.isNewCreated, true);
      assert.ok(res.headers.get('x-request-id'));

      assert.ok(server.kill('SIGTERM'));
      const result = await exit;
      assert.equal(result.signal, null, show(result));
      assert.equal(result.code, 0, show(result));
      // The service logs went to stdout; credentials are not among them.
      assert.ok(!result.stdout.includes('s3cret-pass'), 'no password in the service logs');
      assert.ok(!result.stdout.includes(Buffer.from('acme-ai:s3cret-pass').toString('base64')), 'no credentials in the service logs');
      if (dialect === 'postgres') await pgAdmin(`DROP ROLE IF EXISTS ${role}`);
    });
  });
}

// ---------------------------------------------------------------------------------------------

describe('cli: serve without partners [sqlite]', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dg-cli-serve-'));
  });
  after(() => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
  });

  test('serve logs the bound address (PORT=0), worker off, and warns that no partner is provisioned', async () => {
    const path = join(dir, 'empty.db');
    const server = start(['serve'], { DATABASE_URL: `sqlite:${path}`, PORT: '0', HOST: '127.0.0.1', WORKER_ENABLED: 'false' });
    const exit = exited(server);
    exit.catch(() => {});
    // The deadline only bounds a hang: a first start (migrations, the storage thread) took over
    // 10 s on a CI machine running four test files at once.
    const deadline = Date.now() + 30_000;
    while (!/"listen"/.test(server.output.stdout) && Date.now() < deadline && isRunning(server)) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const started = startupLine(server.output.stdout);
    assert.equal(started.version, VERSION);
    assert.equal(started.worker, false);
    assert.deepEqual(started.database, { kind: 'sqlite', path });
    const listen = String(started.listen);
    assert.match(listen, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(listen, '127.0.0.1:0', 'the port actually bound');
    await awaitHealthy(server, `http://${listen}`);
    // The warning follows the startup line.
    const warnDeadline = Date.now() + 5_000;
    while (!/no partner/.test(server.output.stdout) && Date.now() < warnDeadline) await new Promise((r) => setTimeout(r, 50));
    const warning = logLines(server.output.stdout).find((l) => l.level === 40 && /no partner/.test(String(l.msg)));
    assert.ok(warning, server.output.stdout);
    assert.ok(server.kill('SIGTERM'));
    const result = await exit;
    assert.equal(result.code, 0, show(result));
  });
});
