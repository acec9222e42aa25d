// The access log is written asynchronously (core/logger.ts), yet every answered request still
// has its line when the service is stopped with SIGTERM right after the last answer: the buffer
// is flushed at shutdown. Each line names its request id, and carries no credential.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.js';
import { freePort } from '../helpers/ports.js';
import { killHard, request, type ServiceProcess, startService, waitReady } from '../helpers/service-process.js';

const REQUESTS = 400;
const SECRET = 'Basic c2VjcmV0LXVzZXI6c2VjcmV0LXBhc3N3b3Jk';

let db: TestDatabase | undefined;
let service: ServiceProcess | undefined;
after(async () => {
  if (service) await killHard(service);
  await db?.destroy();
});

test('every answered request has its access line after a SIGTERM right behind the last answer', async () => {
  db = await createTestDatabase('sqlite');
  const port = await freePort();
  const lines: Record<string, unknown>[] = [];
  service = startService(
    'access-log',
    ['serve'],
    { DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
    {
      onLine: (line, stream) => {
        if (stream === 'stdout') lines.push(JSON.parse(line) as Record<string, unknown>);
        return false;
      },
    },
  );
  await waitReady(service, port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 20 });
  const answers = await Promise.all(
    Array.from({ length: REQUESTS }, (_, i) =>
      request(port, agent, 'GET', `/leads/v2/dealer/d-${i}/lead/p-${i}`, undefined, { auth: SECRET }),
    ),
  );
  agent.destroy();
  assert.ok(
    answers.every((a) => a.status === 401),
    'every request is refused: the credential is unknown',
  );
  service.child.kill('SIGTERM');
  await service.exited;
  assert.equal(service.child.exitCode, 0, service.tail());

  const access = lines.filter((l) => l.msg === 'request completed' && String(l.url).startsWith('/leads/'));
  assert.equal(access.length, REQUESTS, `${access.length} access lines for ${REQUESTS} answers`);
  assert.equal(new Set(access.map((l) => l.reqId)).size, REQUESTS, 'each line names its own request id');
  assert.ok(
    access.every((l) => l.statusCode === 401 && typeof l.ms === 'number'),
    'status and duration on every line',
  );
  assert.ok(!lines.some((l) => JSON.stringify(l).includes(SECRET.slice(6))), 'the credential is in no line');
  assert.equal(lines.at(-1)?.msg, 'stopped', 'the last line is the shutdown, after every access line');
});
