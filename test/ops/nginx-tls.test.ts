// The tested example config (docs/operations.md, "TLS termination in front of the service"):
// examples/nginx/dealer-gateway.conf, rendered with test ports and paths, run by a real nginx
// with a self-signed certificate in front of the real service (TRUST_PROXY=127.0.0.1). Proves
// that HTTPS with Basic auth reaches the service, which sees the client's address from
// X-Forwarded-For, and that plain HTTP gets a redirect and never reaches the service.
// Needs nginx and openssl (`.ci/run` installs nginx); skipped, saying so, without them.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/core/config.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { ROOT } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { baseFixture, PASSWORD } from '../helpers/fixtures.js';
import { freePort } from '../helpers/ports.js';
import { basic } from '../helpers/suite.js';

const EXAMPLE = join(ROOT, 'examples', 'nginx', 'dealer-gateway.conf');
// The test client connects from this loopback address, so it differs from nginx's own
// (127.0.0.1, the only proxy the service trusts).
const CLIENT_ADDRESS = '127.0.0.5';

function has(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing = ['nginx', 'openssl'].filter((c) => !has(c));
const skip =
  missing.length > 0
    ? `${missing.join(' and ')} not installed (apt-get install nginx-light openssl); the example nginx config is not tested`
    : false;
// describe({ skip }) prints the reason in the test output (`# SKIP nginx not installed …`).

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

function send(
  secure: boolean,
  port: number,
  path: string,
  headers: Record<string, string>,
  ca?: Buffer,
  method = 'GET',
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, method, headers, localAddress: CLIENT_ADDRESS, agent: false as const };
    const req = secure ? httpsRequest({ ...options, ca, servername: 'localhost' }) : httpRequest(options);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function waitForPort(port: number, nginx: ChildProcess, output: () => string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited ${nginx.exitCode}: ${output()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not listen on ${port}: ${output()}`);
}

for (const dialect of testDialects()) {
  describe(`nginx TLS termination in front of the service [${dialect}]`, { skip }, () => {
    let dir: string;
    let tdb: TestDatabase;
    let app: FastifyInstance;
    let nginx: ChildProcess | undefined;
    let nginxOutput = '';
    let ca: Buffer;
    let httpsPort: number;
    let httpPort: number;
    // Every request the service receives, with the Authorization it carried (if any).
    const seen: { url: string; authorization: boolean; ip: string }[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dg-nginx-'));
      // nginx workers drop root privileges (to nobody): let them use the prefix.
      chmodSync(dir, 0o755);
      const prefix = join(dir, 'prefix');
      mkdirSync(prefix, { mode: 0o777 });
      chmodSync(prefix, 0o777);
      const cert = join(dir, 'cert.pem');
      const key = join(dir, 'key.pem');
      execFileSync(
        'openssl',
        [
          ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', key, '-out', cert],
          ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'],
        ],
        { stdio: 'ignore', cwd: dir },
      );
      ca = readFileSync(cert);

      tdb = await createTestDatabase(dialect);
      await applyProvisioning(tdb.db.kysely, baseFixture);
      const config = loadConfig({ DATABASE_URL: tdb.url, LOG_LEVEL: 'silent', WORKER_ENABLED: 'false', TRUST_PROXY: '127.0.0.1' });
      app = await buildApp(config, { db: tdb.db, logger: false });
      app.addHook('onRequest', async (request) => {
        seen.push({ url: request.url, authorization: request.headers.authorization !== undefined, ip: request.ip });
      });
      // What the service makes of the request: the authenticated subscriber and client address.
      app.get('/test/whoami', { onRequest: app.authenticate }, async (request) => ({
        subscriber: request.principal?.username,
        ip: request.ip,
        protocol: request.protocol,
      }));
      const upstreamPort = await freePort();
      await app.listen({ host: '127.0.0.1', port: upstreamPort });

      httpsPort = await freePort();
      httpPort = await freePort();
      const rendered = readFileSync(EXAMPLE, 'utf8')
        .replaceAll('@HTTPS_PORT@', String(httpsPort))
        .replaceAll('@HTTP_PORT@', String(httpPort))
        .replaceAll('@SERVER_NAME@', 'localhost')
        .replaceAll('@UPSTREAM@', `127.0.0.1:${upstreamPort}`)
        .replaceAll('@CERT@', cert)
        .replaceAll('@KEY@', key)
        .replaceAll('@PREFIX@', prefix);
      assert.doesNotMatch(rendered, /@[A-Z_]+@/, 'every placeholder is substituted');
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, rendered);
      nginx = spawn('nginx', ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf, '-g', 'daemon off;'], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      nginx.stdout?.on('data', (chunk) => {
        nginxOutput += chunk;
      });
      nginx.stderr?.on('data', (chunk) => {
        nginxOutput += chunk;
      });
      const output = () => {
        let log = '';
        try {
          log = readFileSync(join(prefix, 'error.log'), 'utf8');
        } catch {}
        return `${nginxOutput}\n${log}`;
      };
      await waitForPort(httpsPort, nginx, output);
      await waitForPort(httpPort, nginx, output);
    });

    after(async () => {
      if (nginx && nginx.exitCode === null) {
        const exited = new Promise((resolve) => nginx?.once('exit', resolve));
        nginx.kill('SIGQUIT');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
        if (nginx.exitCode === null) nginx.kill('SIGKILL');
      }
      await app?.close();
      await tdb?.destroy();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('HTTPS with Basic auth reaches the service, which sees the client address from X-Forwarded-For; HSTS is set', async () => {
      const res = await send(true, httpsPort, '/test/whoami', { authorization: basic('writer', PASSWORD) }, ca);
      assert.equal(res.status, 200, res.body);
      assert.deepEqual(JSON.parse(res.body), { subscriber: 'writer', ip: CLIENT_ADDRESS, protocol: 'https' });
      assert.match(String(res.headers['strict-transport-security']), /max-age=31536000/);
      // A real partner route, through the proxy: authenticated, and the lead does not exist.
      const lead = await send(
        true,
        httpsPort,
        '/leads/v2/dealer/d-1/lead/00000000-0000-4000-8000-000000000000',
        {
          authorization: basic('writer', PASSWORD),
        },
        ca,
      );
      assert.equal(lead.status, 404, lead.body);
      const wrong = await send(true, httpsPort, '/test/whoami', { authorization: basic('writer', 'wrong-password') }, ca);
      assert.equal(wrong.status, 401);
      assert.match(String(wrong.headers['www-authenticate']), /^Basic /);
      assert.ok(seen.some((s) => s.url === '/test/whoami' && s.authorization && s.ip === CLIENT_ADDRESS));
    });

    test('plain HTTP gets a redirect to HTTPS and is never forwarded, credentials or not', async () => {
      const before = seen.length;
      for (const [method, path] of [
        ['GET', '/test/whoami'],
        ['POST', '/leads/v2/dealer/d-1'],
      ] as const) {
        const res = await send(
          false,
          httpPort,
          path,
          { authorization: basic('writer', PASSWORD), 'content-type': 'application/json' },
          undefined,
          method,
          method === 'POST' ? '{}' : undefined,
        );
        assert.equal(res.status, 301, res.body);
        assert.equal(res.headers.location, `https://127.0.0.1${path}`);
      }
      assert.equal(seen.length, before, 'the service received nothing over plain HTTP');
    });
  });
}
