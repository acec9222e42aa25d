// The SSRF guard: private, loopback, link-local and other internal addresses are refused unless
// DELIVERY_ALLOW_PRIVATE_NETWORKS allows them; names are checked after DNS, at connect time.
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { blockedReason, checkUrl, guardedLookup, parseAllowedNetworks, type ResolveAll } from '../../src/delivery/ssrf.js';

const NONE = parseAllowedNetworks(undefined);

/** Refused by default: the address, the reason's words, and the allow-list entry that admits it. */
const REFUSED: [address: string, reason: RegExp, allow: string][] = [
  ['127.0.0.1', /^127\.0\.0\.1 is a loopback address$/, '127.0.0.0/8'],
  ['127.255.0.9', /loopback/, '127.0.0.0/8'],
  ['0.0.0.0', /"this network"/, '0.0.0.0/8'],
  ['10.1.2.3', /^10\.1\.2\.3 is a private address$/, '10.0.0.0/8'],
  ['172.16.0.1', /private/, '172.16.0.0/12'],
  ['172.31.255.254', /private/, '172.16.0.0/12'],
  ['192.168.1.10', /private/, '192.168.0.0/16'],
  ['100.64.0.1', /CGNAT/, '100.64.0.0/10'],
  ['100.127.255.255', /CGNAT/, '100.64.0.0/10'],
  ['169.254.169.254', /link-local.*metadata/, '169.254.169.254'],
  ['224.0.0.1', /multicast/, '224.0.0.0/4'],
  ['240.0.0.1', /reserved/, '240.0.0.0/4'],
  ['255.255.255.255', /broadcast/, '255.255.255.255/32'],
  ['::', /unspecified/, '::/128'],
  ['::1', /^::1 is a loopback address$/, '::1/128'],
  ['::ffff:127.0.0.1', /^::ffff:127\.0\.0\.1 is a loopback address \(IPv4 127\.0\.0\.1\)$/, '127.0.0.0/8'],
  ['::ffff:7f00:1', /loopback address \(IPv4 127\.0\.0\.1\)/, '127.0.0.0/8'],
  ['::ffff:a9fe:a9fe', /link-local.*\(IPv4 169\.254\.169\.254\)/, '169.254.0.0/16'],
  ['0:0:0:0:0:ffff:10.0.0.1', /private address \(IPv4 10\.0\.0\.1\)/, '10.0.0.0/8'],
  ['::10.0.0.1', /private address \(IPv4 10\.0\.0\.1\)/, '10.0.0.0/8'], // IPv4-compatible
  ['fd00::1', /unique-local/, 'fd00::/8'],
  ['fc00::1', /unique-local/, 'fc00::/7'],
  ['fe80::1', /^fe80::1 is a link-local address$/, 'fe80::/10'],
  ['fe80::1%eth0', /link-local/, 'fe80::/10'],
  ['ff02::1', /multicast/, 'ff00::/8'],
];

const PUBLIC = [
  '93.184.216.34',
  '1.1.1.1',
  '8.8.8.8',
  '172.32.0.1',
  '100.128.0.1',
  '2606:4700::1111',
  '2001:4860:4860::8888',
  '::ffff:93.184.216.34',
];

describe('blockedReason', () => {
  test('internal addresses are refused by default, with the reason', () => {
    for (const [address, reason] of REFUSED) {
      const got = blockedReason(address, NONE);
      assert.ok(got !== undefined, `${address} should be refused`);
      assert.match(got, reason, address);
    }
  });

  test('public addresses are allowed', () => {
    for (const address of PUBLIC) assert.equal(blockedReason(address, NONE), undefined, address);
  });

  test('each refused address is allowed when its network is in the allow list, and only then', () => {
    for (const [address, , allow] of REFUSED) {
      assert.equal(blockedReason(address, parseAllowedNetworks(allow)), undefined, `${address} with ${allow}`);
      assert.notEqual(blockedReason(address, parseAllowedNetworks('203.0.113.0/24, 2001:db8::/32')), undefined, address);
    }
    const tenOnly = parseAllowedNetworks('10.0.0.0/8');
    assert.equal(blockedReason('10.9.9.9', tenOnly), undefined);
    assert.match(blockedReason('192.168.0.1', tenOnly) ?? '', /private/);
    assert.match(blockedReason('127.0.0.1', tenOnly) ?? '', /loopback/);
  });

  test('a non-IP is refused', () => {
    assert.match(blockedReason('example.com', NONE) ?? '', /not an IP address/);
    assert.match(blockedReason('', NONE) ?? '', /not an IP address/);
  });
});

describe('parseAllowedNetworks', () => {
  test('comma-separated CIDRs and bare addresses, whitespace tolerated', () => {
    const allowed = parseAllowedNetworks(' 10.0.0.0/8 ,192.168.1.5,  fd00::/8 ,::1 ,');
    assert.deepEqual(allowed.entries, ['10.0.0.0/8', '192.168.1.5', 'fd00::/8', '::1']);
    assert.equal(blockedReason('10.200.0.1', allowed), undefined);
    assert.equal(blockedReason('192.168.1.5', allowed), undefined);
    assert.match(blockedReason('192.168.1.6', allowed) ?? '', /private/);
    assert.equal(blockedReason('fd12::1', allowed), undefined);
    assert.equal(blockedReason('::1', allowed), undefined);
  });

  test('empty or unset allows nothing', () => {
    for (const raw of [undefined, '', '  ', ' , ']) {
      assert.deepEqual(parseAllowedNetworks(raw).entries, [], JSON.stringify(raw));
      assert.match(blockedReason('10.0.0.1', parseAllowedNetworks(raw)) ?? '', /private/);
    }
  });

  test('a bad entry is named in the error', () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.0/8, intranet', /"intranet" is not an IP address or CIDR/],
      ['10.0.0.0/33', /"10\.0\.0\.0\/33" has a prefix length outside 0\.\.32/],
      ['fd00::/129', /"fd00::\/129" has a prefix length outside 0\.\.128/],
      ['10.0.0.0/', /"10\.0\.0\.0\/" has a prefix length/],
      ['10.0.0.0/-1', /prefix length/],
      ['10.0.0.0/8/8', /prefix length/],
      ['256.0.0.1', /"256\.0\.0\.1" is not an IP address/],
      ['10.0.0.0 /8', /"10\.0\.0\.0 \/8" is not an IP address/],
      ['fe80::1%eth0', /"fe80::1%eth0" is not an IP address/],
    ];
    for (const [raw, message] of cases) {
      assert.throws(
        () => parseAllowedNetworks(raw),
        (e: Error) => e.constructor === Error && message.test(e.message),
        raw,
      );
    }
  });
});

describe('checkUrl', () => {
  const refusal = (url: string, allowed = NONE) => {
    const result = checkUrl(url, allowed);
    return result.ok ? undefined : result.reason;
  };

  test('public http(s) URLs and host names pass, parsed', () => {
    const result = checkUrl('https://hooks.example.com:8443/in?x=1', NONE);
    assert.ok(result.ok);
    assert.equal(result.url.hostname, 'hooks.example.com');
    assert.equal(result.url.port, '8443');
    for (const url of ['http://93.184.216.34/hook', 'https://[2606:4700::1111]/hook', 'https://internal.corp/hook']) {
      assert.equal(refusal(url), undefined, url);
    }
  });

  test('IP literals in internal ranges are refused, in every spelling the URL parser accepts', () => {
    const cases: [string, RegExp][] = [
      ['http://127.0.0.1:8080/', /127\.0\.0\.1 is a loopback address/],
      ['http://2130706433/', /127\.0\.0\.1 is a loopback/], // decimal
      ['http://0x7f.1/', /127\.0\.0\.1 is a loopback/], // hex, shortened
      ['http://[::1]/', /^::1 is a loopback address$/],
      ['http://[0:0:0:0:0:0:0:1]/', /loopback/],
      ['http://[::ffff:127.0.0.1]/', /loopback address \(IPv4 127\.0\.0\.1\)/],
      ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['https://10.0.0.5/', /private/],
      ['https://[fd00::1]/', /unique-local/],
      ['http://0/', /"this network"/],
    ];
    for (const [url, reason] of cases) assert.match(refusal(url) ?? '', reason, url);
    assert.equal(refusal('http://[::1]/', parseAllowedNetworks('::1')), undefined);
    assert.equal(refusal('http://10.0.0.5/', parseAllowedNetworks('10.0.0.0/24')), undefined);
  });

  test('localhost names are refused unless 127.0.0.1 is allowed', () => {
    for (const url of ['http://localhost/', 'http://LOCALHOST:3000/', 'http://localhost./', 'http://api.localhost/']) {
      assert.match(refusal(url) ?? '', /is a loopback name/, url);
      assert.equal(refusal(url, parseAllowedNetworks('127.0.0.0/8')), undefined, url);
    }
    assert.equal(refusal('http://notlocalhost/'), undefined);
  });

  test('other schemes, credentials and unparsable URLs are refused', () => {
    const cases: [string, RegExp][] = [
      ['ftp://example.com/', /scheme must be https or http, not ftp/],
      ['file:///etc/passwd', /scheme must be https or http, not file/],
      ['gopher://example.com/', /scheme/],
      ['https://user:pass@example.com/', /credentials/],
      ['https://user@example.com/', /credentials/],
      ['not a url', /not a valid URL/],
      ['https://', /not a valid URL/],
      ['/relative/path', /not a valid URL/],
    ];
    for (const [url, reason] of cases) assert.match(refusal(url) ?? '', reason, url);
  });
});

describe('guardedLookup', () => {
  let server: Server;
  let port: number;

  before(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    assert.ok(address !== null && typeof address === 'object');
    port = address.port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  /** Connects to localhost through the guarded lookup: the error, or undefined once connected. */
  const connectLocalhost = (allow: string) =>
    new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      const socket = connect({ host: 'localhost', port, lookup: guardedLookup(parseAllowedNetworks(allow)) });
      socket.once('connect', () => {
        socket.destroy();
        resolve(undefined);
      });
      socket.once('error', resolve);
    });

  test('net.connect to localhost is refused with ERR_DESTINATION_BLOCKED', async () => {
    const error = await connectLocalhost('');
    assert.ok(error, 'the connection should fail');
    assert.equal(error.code, 'ERR_DESTINATION_BLOCKED');
    assert.match(error.message, /^Destination localhost resolves to (127\.0\.0\.1|::1): (127\.0\.0\.1|::1) is a loopback address$/);
  });

  test('net.connect to localhost succeeds when loopback is allowed', async () => {
    assert.equal(await connectLocalhost('127.0.0.0/8, ::1/128'), undefined);
  });

  /** A resolver answering every name with these addresses, as dns.lookup({ all: true }) would. */
  const answering =
    (...addresses: string[]): ResolveAll =>
    (_hostname, _options, callback) =>
      callback(
        null,
        addresses.map((address): LookupAddress => ({ address, family: address.includes(':') ? 6 : 4 })),
      );

  const call = (resolve: ResolveAll, all: boolean, allow = '') =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: unknown; family: unknown }>((done) =>
      guardedLookup(parseAllowedNetworks(allow), resolve)('hooks.example.com', { all }, (err, address, family) =>
        done({ err, address, family }),
      ),
    );

  test('answers in both callback shapes when every address is public', async () => {
    const resolve = answering('93.184.216.34', '2606:4700::1111');
    assert.deepEqual(await call(resolve, false), { err: null, address: '93.184.216.34', family: 4 });
    const all = await call(resolve, true);
    assert.equal(all.err, null);
    assert.deepEqual(all.address, [
      { address: '93.184.216.34', family: 4 },
      { address: '2606:4700::1111', family: 6 },
    ]);
  });

  test('a name with any internal address is refused, whichever comes first (DNS rebinding)', async () => {
    for (const all of [false, true]) {
      const { err } = await call(answering('93.184.216.34', '10.0.0.7'), all);
      assert.equal(err?.code, 'ERR_DESTINATION_BLOCKED');
      assert.equal(err?.message, 'Destination hooks.example.com resolves to 10.0.0.7: 10.0.0.7 is a private address');
    }
    assert.equal((await call(answering('93.184.216.34', '10.0.0.7'), false, '10.0.0.0/8')).err, null);
  });

  test('resolution errors pass through', async () => {
    const failing: ResolveAll = (hostname, _options, callback) =>
      callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
    const { err } = await call(failing, false);
    assert.equal(err?.code, 'ENOTFOUND');
  });

  test('the real resolver answers localhost in both shapes when loopback is allowed', async () => {
    const viaDns = (all: boolean) =>
      new Promise<{ err: NodeJS.ErrnoException | null; address: unknown }>((done) =>
        guardedLookup(parseAllowedNetworks('127.0.0.0/8, ::1'))('localhost', { all }, (err, address) => done({ err, address })),
      );
    const single = await viaDns(false);
    assert.equal(single.err, null);
    assert.ok(single.address === '127.0.0.1' || single.address === '::1', String(single.address));
    const many = await viaDns(true);
    assert.equal(many.err, null);
    assert.ok(Array.isArray(many.address) && many.address.length >= 1);
  });
});
