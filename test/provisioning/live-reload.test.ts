// A running service sees provisioning changes made by another process (here: another connection)
// within one poll interval, with no restart: new subscribers, new passwords, disabled subscribers,
// revoked grants. PROVISIONING_POLL_MS=100, and the change must show within one second.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { baseFixture, leadBody } from '../helpers/fixtures.js';
import { basic, describeEachDialect } from '../helpers/suite.js';

const BOUND_MS = 1000;

describeEachDialect(
  'provisioning: a running service reloads changes',
  { fixture: baseFixture, env: { PROVISIONING_POLL_MS: '100' } },
  (ctx) => {
    // The "other process": an independent connection (pool) to the same database.
    let other: Kysely<Database>;
    before(() => {
      other = ctx().tdb.connectAgain().kysely;
    });

    let leadCounter = 0;
    const save = async (username: string, password: string, dealer = 'd-1'): Promise<number> => {
      leadCounter++;
      const body =
        dealer === 'd-1'
          ? leadBody({ leadId: `reload-${leadCounter}` })
          : leadBody({ leadId: `reload-${leadCounter}`, customer: { uuid: 'c-2' }, vehicle: { uuid: 'v-2' } });
      const res = await ctx().app.inject({
        method: 'POST',
        url: `/leads/v2/dealer/${dealer}`,
        headers: { authorization: basic(username, password) },
        payload: body,
      });
      return res.statusCode;
    };

    /**
     * Applies `doc` through the other connection, waits until the running app has loaded that
     * provisioning revision — which must happen within BOUND_MS of the apply committing — and
     * then checks that `probe` answers `expected`. The bound covers the reload only, not the
     * probe's own scrypt work, which a loaded CI machine may slow down arbitrarily.
     */
    async function applyAndAwait(doc: unknown, probe: () => Promise<number>, expected: number): Promise<void> {
      const report = await applyProvisioning(other, doc);
      assert.equal(report.changed, true, 'the document changes something');
      const start = performance.now();
      while (ctx().app.directory.revision < report.revision) {
        const elapsed = performance.now() - start;
        if (elapsed > BOUND_MS) assert.fail(`revision ${report.revision} not loaded ${Math.round(elapsed)} ms after the apply`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(await probe(), expected);
    }

    const subscriberDoc = (username: string, password: string, extra: Record<string, unknown> = {}) => ({
      subscribers: [{ username, password, grants: [{ scope: 'lead.write', dealers: ['d-1'] }], ...extra }],
    });

    test('a new subscriber can authenticate', async () => {
      assert.equal(await save('late-comer', 'late-comer-pass'), 401);
      await applyAndAwait(subscriberDoc('late-comer', 'late-comer-pass'), () => save('late-comer', 'late-comer-pass'), 200);
    });

    test('a changed password: the new one works, the old one (even if cached) is refused', async () => {
      await applyAndAwait(subscriberDoc('rotating', 'first-password'), () => save('rotating', 'first-password'), 200);
      // Used successfully again, so that it sits in the credential cache; and the future password
      // tried too early, so that its rejection is remembered.
      assert.equal(await save('rotating', 'first-password'), 200);
      assert.equal(await save('rotating', 'second-password'), 401);

      // No overlap: the old password stops at once (the default 24 h overlap: test/auth/password-rotation.test.ts).
      await applyAndAwait(
        subscriberDoc('rotating', 'second-password', { passwordOverlapHours: 0 }),
        () => save('rotating', 'second-password'),
        200,
      );
      assert.equal(await save('rotating', 'first-password'), 401);
      assert.equal(await save('rotating', 'second-password'), 200);
    });

    test('an old password stops working within the bound', async () => {
      await applyAndAwait(subscriberDoc('rotating-2', 'old-password-1'), () => save('rotating-2', 'old-password-1'), 200);
      assert.equal(await save('rotating-2', 'old-password-1'), 200);
      await applyAndAwait(
        subscriberDoc('rotating-2', 'new-password-1', { passwordOverlapHours: 0 }),
        () => save('rotating-2', 'old-password-1'),
        401,
      );
      assert.equal(await save('rotating-2', 'new-password-1'), 200);
    });

    test('a disabled subscriber is refused, and accepted again once re-enabled', async () => {
      await applyAndAwait(subscriberDoc('to-disable', 'to-disable-pass'), () => save('to-disable', 'to-disable-pass'), 200);
      assert.equal(await save('to-disable', 'to-disable-pass'), 200);

      await applyAndAwait(
        subscriberDoc('to-disable', 'to-disable-pass', { disabled: true }),
        () => save('to-disable', 'to-disable-pass'),
        401,
      );
      await applyAndAwait(
        subscriberDoc('to-disable', 'to-disable-pass', { disabled: false }),
        () => save('to-disable', 'to-disable-pass'),
        200,
      );
    });

    test('a revoked grant is refused (403) while the remaining grant still works', async () => {
      const grants = (dealers: string[]) => ({
        subscribers: [{ username: 'two-dealers', password: 'two-dealers-pass', grants: [{ scope: 'lead.write', dealers }] }],
      });
      await applyAndAwait(grants(['d-1', 'd-2']), () => save('two-dealers', 'two-dealers-pass', 'd-1'), 200);
      assert.equal(await save('two-dealers', 'two-dealers-pass', 'd-2'), 200);

      await applyAndAwait(grants(['d-2']), () => save('two-dealers', 'two-dealers-pass', 'd-1'), 403);
      assert.equal(await save('two-dealers', 'two-dealers-pass', 'd-2'), 200);
    });

    test('a MultiDealer grant replaced by a Dealer grant is narrowed', async () => {
      assert.equal(await save('multi', baseFixtureMultiPassword(), 'd-2'), 200);
      await applyAndAwait(
        { subscribers: [{ username: 'multi', password: baseFixtureMultiPassword(), grants: [{ scope: 'lead.write', dealers: ['d-1'] }] }] },
        () => save('multi', baseFixtureMultiPassword(), 'd-2'),
        403,
      );
      assert.equal(await save('multi', baseFixtureMultiPassword(), 'd-1'), 200);
    });
  },
);

function baseFixtureMultiPassword(): string {
  const multi = baseFixture.subscribers.find((s) => s.username === 'multi');
  if (!multi) throw new Error('baseFixture has no "multi" subscriber');
  return multi.password;
}
