// Our Standard Webhooks signatures, checked by the spec's own JavaScript library
// (standardwebhooks), as a receiver would check them.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { generateSecret, isValidSecret, parseSecret, sign, signedHeaders } from '../../src/delivery/signature.js';

const now = () => Math.floor(Date.now() / 1000);
const BODY = JSON.stringify({ type: 'lead.created', data: { id: 'L-1', name: 'Zoë' } });
const secretOf = (bytes: number, fill = 1) => `whsec_${Buffer.alloc(bytes, fill).toString('base64')}`;

describe('webhook secrets', () => {
  test('generateSecret gives whsec_ and 32 random bytes in base64', () => {
    const a = generateSecret();
    const b = generateSecret();
    assert.match(a, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(parseSecret(a).length, 32);
    assert.notEqual(a, b);
  });

  test('parseSecret returns the decoded key bytes', () => {
    assert.deepEqual(parseSecret(secretOf(24, 7)), Buffer.alloc(24, 7));
    assert.deepEqual(parseSecret(secretOf(64, 9)), Buffer.alloc(64, 9));
  });

  test('malformed secrets are refused with a reason', () => {
    const cases: [string, RegExp][] = [
      ['', /must start with "whsec_"/],
      [Buffer.alloc(32).toString('base64'), /must start with "whsec_"/],
      [`WHSEC_${Buffer.alloc(32).toString('base64')}`, /must start with "whsec_"/],
      ['whsec_', /24 to 64 bytes, not 0/],
      [secretOf(23), /24 to 64 bytes, not 23/],
      [secretOf(65), /24 to 64 bytes, not 65/],
      [`whsec_${'*'.repeat(44)}`, /standard base64/],
      [`${secretOf(32)} `, /standard base64/],
      [`whsec_${Buffer.alloc(32, 0xfb).toString('base64url')}`, /standard base64/], // - and _ instead of + and /
      [secretOf(32).slice(0, -1), /standard base64/], // padding cut off
    ];
    for (const [secret, message] of cases) {
      assert.throws(() => parseSecret(secret), message, JSON.stringify(secret));
      assert.equal(isValidSecret(secret), false, JSON.stringify(secret));
    }
    assert.equal(isValidSecret(secretOf(32)), true);
  });
});

describe('webhook signatures', () => {
  test('the signature is v1, base64 HMAC-SHA256 of id.timestamp.body', () => {
    const secret = secretOf(32, 3);
    const expected = createHmac('sha256', Buffer.alloc(32, 3)).update(`msg_1.1700000000.${BODY}`).digest('base64');
    assert.equal(sign([secret], 'msg_1', 1_700_000_000, BODY), `v1,${expected}`);
    assert.equal(sign([secret], 'msg_1', 1_700_000_000, BODY), new Webhook(secret).sign('msg_1', new Date(1_700_000_000_000), BODY));
  });

  test('standardwebhooks verifies our headers', () => {
    const secret = generateSecret();
    const headers = signedHeaders([secret], 'msg_2aBcD', now(), BODY);
    assert.deepEqual(Object.keys(headers).sort(), ['webhook-id', 'webhook-signature', 'webhook-timestamp']);
    assert.equal(headers['webhook-id'], 'msg_2aBcD');
    assert.match(headers['webhook-timestamp'] as string, /^\d{10}$/);
    assert.deepEqual(new Webhook(secret).verify(BODY, headers), JSON.parse(BODY));
  });

  test('during a rotation, the header carries both signatures and each secret alone verifies', () => {
    const current = generateSecret();
    const previous = generateSecret();
    const headers = signedHeaders([current, previous], 'msg_rot', now(), BODY);
    const parts = (headers['webhook-signature'] as string).split(' ');
    assert.equal(parts.length, 2);
    assert.equal(parts[0], sign([current], 'msg_rot', Number(headers['webhook-timestamp']), BODY), 'current secret first');
    assert.equal(parts[1], sign([previous], 'msg_rot', Number(headers['webhook-timestamp']), BODY));
    assert.doesNotThrow(() => new Webhook(current).verify(BODY, headers));
    assert.doesNotThrow(() => new Webhook(previous).verify(BODY, headers));
    assert.throws(() => new Webhook(generateSecret()).verify(BODY, headers), /No matching signature/);
  });

  test('a tampered body, id or timestamp does not verify', () => {
    const secret = generateSecret();
    const headers = signedHeaders([secret], 'msg_3', now(), BODY);
    const webhook = new Webhook(secret);
    assert.throws(() => webhook.verify(BODY.replace('L-1', 'L-2'), headers), /No matching signature/);
    assert.throws(() => webhook.verify(`${BODY} `, headers), /No matching signature/);
    assert.throws(() => webhook.verify(BODY, { ...headers, 'webhook-id': 'msg_4' }), /No matching signature/);
    const later = String(Number(headers['webhook-timestamp']) + 1);
    assert.throws(() => webhook.verify(BODY, { ...headers, 'webhook-timestamp': later }), /No matching signature/);
  });

  test('non-ASCII bodies are signed as UTF-8', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ note: 'café ✓ 密码 🚗' });
    assert.deepEqual(new Webhook(secret).verify(body, signedHeaders([secret], 'msg_5', now(), body)), JSON.parse(body));
  });

  test('signing refuses malformed secrets, no secret, bad ids and bad timestamps', () => {
    assert.throws(() => sign([generateSecret(), secretOf(16)], 'msg_6', now(), BODY), /24 to 64 bytes/);
    assert.throws(() => sign(['not-a-secret'], 'msg_6', now(), BODY), /must start with "whsec_"/);
    assert.throws(() => sign([], 'msg_6', now(), BODY), /At least one webhook secret/);
    for (const id of ['', 'msg 6', 'msg\r\nx-evil: 1', 'msgé']) {
      assert.throws(() => sign([generateSecret()], id, now(), BODY), /message id/, JSON.stringify(id));
    }
    for (const timestamp of [1.5, -1, Number.NaN, 2 ** 53]) {
      assert.throws(() => sign([generateSecret()], 'msg_6', timestamp, BODY), /whole Unix seconds/, String(timestamp));
    }
  });
});
