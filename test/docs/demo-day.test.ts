// The README's demo day: examples/demo-day.json applies cleanly beside examples/demo.json, and
// examples/demo-day.mjs, run against a listening app with its worker, sends a day of traffic
// through the public API that ends as the script says — events processed and rejected, chat
// summaries spread over 24 hours, leads saved and refused.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { describeEachDialect } from '../helpers/suite.js';

const SCRIPT = fileURLToPath(new URL('../../examples/demo-day.mjs', import.meta.url));
const readExample = (name: string) => JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8'));
const demo = readExample('demo.json');
const demoDay = readExample('demo-day.json');
const run = promisify(execFile);

interface Dealer {
  readonly uuid: string;
  readonly name: string;
}

test('demo-day.json names the dealers it shares with demo.json the same way (applying one never renames the other)', () => {
  const names = new Map((demo.dealers as Dealer[]).map((d) => [d.uuid, d.name]));
  const shared = (demoDay.dealers as Dealer[]).filter((d) => names.has(d.uuid));
  assert.ok(shared.length > 0);
  for (const dealer of shared) assert.equal(dealer.name, names.get(dealer.uuid), dealer.uuid);
  const usernames = new Set((demo.subscribers as { username: string }[]).map((s) => s.username));
  for (const s of demoDay.subscribers as { username: string }[]) assert.ok(!usernames.has(s.username), `${s.username} is in both files`);
});

describeEachDialect('examples/demo-day.mjs', { env: { WORKER_ENABLED: 'true' } }, (ctx) => {
  test('sends a day of traffic through the public API, as it reports', async () => {
    const { app, tdb } = ctx();
    await applyProvisioning(tdb.db.kysely, demo);
    await ctx().provision(demoDay);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    assert.ok(typeof address === 'object' && address !== null);
    const { stdout } = await run(process.execPath, [SCRIPT, `http://127.0.0.1:${address.port}`], { timeout: 90_000 });

    assert.match(stdout, /^sent 48 chat summaries as northwind-chat/m);
    assert.match(stdout, /^leads as oem-recalls: 11 created, 2 updated, 2 refused \(422 CUSTOMER_NOT_FOUND, 400 VALIDATION_FAILED\)$/m);
    assert.match(stdout, /^chat summaries: PROCESSED 40, REJECTED 8$/m);
    assert.match(stdout, /^ {2}rejected for: DEALER_NOT_MAPPED 4, INVALID_FIELD 2, INVALID_EVENT_TIMESTAMP 1, SCHEMA_VIOLATION 1$/m);
    assert.match(stdout, /^ {2}warnings: UNKNOWN_VIN 2, INVALID_VIN_CHECK_DIGIT 1, UNKNOWN_FIELD 1$/m);

    const db = tdb.db.kysely;
    const events = await db.selectFrom('events').select(['status', 'errors']).where('username', '=', 'northwind-chat').execute();
    assert.equal(events.length, 48);
    assert.equal(events.filter((e) => e.status === 'REJECTED').length, 8);
    const codes = new Set(events.flatMap((e) => (JSON.parse(e.errors) as { errorCode: string }[]).map((x) => x.errorCode)));
    assert.deepEqual([...codes].sort(), ['DEALER_NOT_MAPPED', 'INVALID_EVENT_TIMESTAMP', 'INVALID_FIELD', 'SCHEMA_VIOLATION']);

    const summaries = await db.selectFrom('chat_summaries').select(['dealer_uuid', 'event_timestamp']).execute();
    assert.equal(summaries.length, 40);
    assert.deepEqual([...new Set(summaries.map((s) => s.dealer_uuid))].sort(), ['d-1', 'd-2', 'd-3']);
    const times = summaries.map((s) => Number(s.event_timestamp));
    assert.ok(Math.max(...times) - Math.min(...times) > 20 * 3_600_000, 'the chat summaries span most of a day');

    const leads = await db.selectFrom('leads').select(['dealer_uuid', 'save_count']).execute();
    assert.equal(leads.length, 11);
    assert.equal(leads.filter((l) => Number(l.save_count) === 2).length, 2);
  });
});
