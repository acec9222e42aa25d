// `dealer-gateway deliveries`, on both databases: list and show read; retry (one, or every dead
// letter matching a filter) and recover (a destination's dead letters since a time) put FAILED
// messages back to PENDING with a fresh schedule, audited as the CLI's.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { run, show } from '../helpers/cli.js';
import { createTestDatabase, type TestDatabase, testDialects } from '../helpers/databases.js';
import { addDestination } from '../helpers/destinations.js';

for (const dialect of testDialects()) {
  describe(`deliveries CLI [${dialect}]`, () => {
    let tdb: TestDatabase;
    const env = () => ({ DATABASE_URL: tdb.url, LOG_LEVEL: 'warn' });
    before(async () => {
      tdb = await createTestDatabase(dialect);
      const now = Date.now();
      for (const name of ['crm', 'dms']) {
        await addDestination(tdb.db.kysely, name, 'https://example.com/hook', { eventTypes: ['lead.created'] });
      }
      const message = (id: string, destination: string, status: string, ageMs: number) => ({
        id,
        destination,
        event_type: 'lead.created',
        dealer_uuid: 'd-1',
        ordering_key: 'd-1',
        source_id: `lead-${id}`,
        payload: JSON.stringify({ type: 'lead.created', timestamp: new Date(now).toISOString(), data: { id } }),
        created_at: now - ageMs,
        status,
        attempts: 9,
        next_attempt_at: now,
        last_error: status === 'FAILED' ? 'HTTP 500' : null,
      });
      await tdb.db.kysely
        .insertInto('outbox_messages')
        .values([
          message('msg_00000000000000000000000000000001', 'crm', 'FAILED', 60_000),
          message('msg_00000000000000000000000000000002', 'crm', 'FAILED', 3 * 86_400_000),
          message('msg_00000000000000000000000000000003', 'dms', 'FAILED', 60_000),
          message('msg_00000000000000000000000000000004', 'dms', 'DELIVERED', 60_000),
        ])
        .execute();
    });
    after(() => tdb?.destroy());
    const statusOf = async (id: string) =>
      await tdb.db.kysely.selectFrom('outbox_messages').select(['status', 'attempts']).where('id', '=', id).executeTakeFirstOrThrow();

    test('list and show read the outbox', async () => {
      const listed = await run(['deliveries', 'list', '--status', 'failed', '--json'], env());
      assert.equal(listed.code, 0, show(listed));
      assert.deepEqual((JSON.parse(listed.stdout) as { id: string }[]).map((m) => m.id).sort(), [
        'msg_00000000000000000000000000000001',
        'msg_00000000000000000000000000000002',
        'msg_00000000000000000000000000000003',
      ]);
      const one = await run(['deliveries', 'show', 'msg_00000000000000000000000000000004'], env());
      assert.equal(one.code, 0, show(one));
      assert.equal(JSON.parse(one.stdout).payload.type, 'lead.created');
      const bad = await run(['deliveries', 'list', '--status', 'LOST'], env());
      assert.equal(bad.code, 2, show(bad));
    });

    test('retry one, recover a destination since a time, retry by filter; each audited', async () => {
      const one = await run(['deliveries', 'retry', '--id', 'msg_00000000000000000000000000000003'], env());
      assert.equal(one.code, 0, show(one));
      assert.deepEqual(await statusOf('msg_00000000000000000000000000000003'), { status: 'PENDING', attempts: 0 });

      const since = new Date(Date.now() - 86_400_000).toISOString();
      const recovered = await run(['deliveries', 'recover', '--destination', 'crm', '--since', since], env());
      assert.equal(recovered.code, 0, show(recovered));
      assert.match(recovered.stdout, /^1 dead letter\(s\) of crm will be sent again/);
      assert.equal((await statusOf('msg_00000000000000000000000000000001')).status, 'PENDING');
      assert.equal((await statusOf('msg_00000000000000000000000000000002')).status, 'FAILED', 'older than --since');

      const rest = await run(['deliveries', 'retry', '--destination', 'crm'], env());
      assert.match(rest.stdout, /^1 dead letter\(s\) will be sent again/);
      assert.equal((await statusOf('msg_00000000000000000000000000000002')).status, 'PENDING');
      assert.equal((await statusOf('msg_00000000000000000000000000000004')).status, 'DELIVERED', 'only dead letters');

      const audit = await tdb.db.kysely.selectFrom('audit_log').select(['actor', 'action']).where('entity', '=', 'message').execute();
      assert.equal(audit.length, 3);
      assert.ok(audit.every((a) => a.actor === 'cli' && a.action === 'retry'));
    });
  });
}
