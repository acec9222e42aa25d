// MailSender against a real SMTP server in this process (smtp-server on 127.0.0.1): what arrives
// (headers, and the body decoded here, independently of nodemailer, and compared with the payload
// byte for byte), and the verdict for each kind of answer: accepted, 4xx (retried), 5xx (a dead
// letter), no server, no answer, no TLS, authentication.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import tls from 'node:tls';
import { SMTPServer, type SMTPServerError, type SMTPServerOptions } from 'smtp-server';
import type { OutboxMessageRow } from '../../src/db/schema.js';
import { type MailDestination, MailSender, type MailSenderOptions } from '../../src/delivery/mail-sender.js';

const NOW = 1_700_000_000_000;
const FROM = 'leads@gateway.test';

/** An ADF lead with what a mail path could damage: non-ASCII, &, <, =, quotes, a line over 998 characters, a line starting with a dot, trailing spaces, a tab, no final newline. */
const ADF = [
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<?adf version="1.0"?>',
  '<adf>',
  '  <prospect status="new">',
  '    <customer><contact><name part="full">Zoë Ñúñez-Straße 日本 🚗</name><email>zoe@example.test</email></contact></customer>',
  `    <comments>Trade-in &amp; finance &lt;asap&gt; a=b "q" 'q'	${'long comment, '.repeat(90)}end</comments>`,
  '.a line that starts with a dot',
  '    <vendor><vendorname>Dealer &amp; Sons   </vendorname></vendor>   ',
  '  </prospect>',
  '</adf>',
].join('\n');
/** Plain ASCII, short lines: goes as it is (7bit). */
const PLAIN = '<?xml version="1.0"?>\n<adf>\n  <prospect><requestdate>2026-12-07T10:00:00Z</requestdate></prospect>\n</adf>\n';

interface Received {
  readonly raw: Buffer;
  readonly mailFrom: string;
  readonly rcptTo: string[];
  readonly secure: boolean;
  readonly user: unknown;
}

interface Rx {
  readonly port: number;
  /** Every message whose DATA the server answered, refused ones included (then `accepted` false). */
  readonly data: (Received & { accepted: boolean })[];
  /** MAIL FROM commands seen: 0 means nothing of a mail was sent. */
  mailFroms: number;
  connections: number;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  // Senders first (their pooled connections would keep a server from closing), then servers.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const smtpError = (responseCode: number, text: string): SMTPServerError => Object.assign(new Error(text), { responseCode });

/** An SMTP server; `refuseData(n)` answers the n-th DATA (1-based) with an error instead of 250. */
async function smtp(options: SMTPServerOptions & { refuseData?: (n: number) => SMTPServerError | undefined } = {}): Promise<Rx> {
  const { refuseData, onMailFrom, ...serverOptions } = options;
  const rx: Rx = { port: 0, data: [], mailFroms: 0, connections: 0 };
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    authOptional: true,
    closeTimeout: 100,
    ...serverOptions,
    onConnect(_session, callback) {
      rx.connections++;
      callback();
    },
    onMailFrom(address, session, callback) {
      rx.mailFroms++;
      if (onMailFrom) onMailFrom.call(server, address, session, callback);
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const refusal = refuseData?.(rx.data.length + 1);
        rx.data.push({
          raw: Buffer.concat(chunks),
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          rcptTo: session.envelope.rcptTo.map((r) => r.address),
          secure: session.secure,
          user: session.user,
          accepted: refusal === undefined,
        });
        if (refusal) callback(refusal);
        else callback(null, `2.0.0 Queued as Q-${rx.data.length}`);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  return Object.assign(rx, { port: (server.server.address() as AddressInfo).port });
}

const accepted = (rx: Rx) => rx.data.filter((d) => d.accepted);

function sender(smtpUrl: string, options: Partial<MailSenderOptions> = {}): MailSender {
  const s = new MailSender({
    smtpUrl,
    allowInsecure: true,
    from: `Dealer Gateway <${FROM}>`,
    timeoutMs: 5000,
    clock: () => NOW,
    ...options,
  });
  cleanups.push(() => s.close());
  return s;
}

const crm = (...to: string[]): MailDestination => ({ name: 'crm', email_to: JSON.stringify(to) });

let seq = 0;
function message(payload = PLAIN): OutboxMessageRow {
  seq++;
  return {
    seq,
    id: `msg_${seq}aBc`,
    destination: 'crm',
    event_type: 'lead.created',
    dealer_uuid: null,
    ordering_key: '',
    source_id: `prospect-${seq}`,
    payload,
    content_type: 'application/xml',
    created_at: NOW,
    status: 'PENDING',
    attempts: 1,
    next_attempt_at: NOW,
    locked_by: null,
    locked_until: null,
    last_error: null,
    delivered_at: null,
  };
}

/** Headers (unfolded, by lower-case name, each once) and the body as it came, undecoded. */
function parse(raw: Buffer): { headers: Map<string, string>; body: string } {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a header block and a body');
  const headers = new Map<string, string>();
  for (const line of text
    .slice(0, end)
    .replace(/\r\n[ \t]/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    assert.ok(!headers.has(name), `one ${name} header`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  return { headers, body: text.slice(end + 4) };
}

/** RFC 2045 quoted-printable, decoded here rather than by nodemailer (which encoded it). */
function decodeQuotedPrintable(body: string): Buffer {
  const bytes: number[] = [];
  const text = body.replace(/=\r\n/g, ''); // soft line breaks
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '=') {
      const hex = text.slice(i + 1, i + 3);
      assert.match(hex, /^[0-9A-F]{2}$/, `an =XX escape at ${i}`);
      bytes.push(Number.parseInt(hex, 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i));
  }
  return Buffer.from(bytes);
}

/**
 * The payload as a mail body must carry it: SMTP has CRLF-terminated lines, so each \n arrives as
 * \r\n and the last line gets one (XML parsers read \r\n as \n). Nothing else may differ.
 */
const asMailText = (payload: string) => Buffer.from(`${payload.replace(/\n/g, '\r\n')}${payload.endsWith('\n') ? '' : '\r\n'}`, 'utf8');

function assertMail(received: Received, msg: OutboxMessageRow, to: string[], encoding: '7bit' | 'quoted-printable'): void {
  const { headers, body } = parse(received.raw);
  assert.equal(headers.get('from'), `Dealer Gateway <${FROM}>`);
  assert.equal(headers.get('to'), to.join(', '));
  assert.equal(headers.get('subject'), `Lead ${msg.source_id}`);
  assert.equal(headers.get('message-id'), `<${msg.id}@dealer-gateway>`);
  assert.equal(headers.get('content-type'), 'text/plain; charset=utf-8');
  assert.equal(headers.get('content-transfer-encoding'), encoding);
  assert.equal(headers.get('mime-version'), '1.0');
  assert.deepEqual(
    [...headers.keys()].sort(),
    ['content-transfer-encoding', 'content-type', 'date', 'from', 'message-id', 'mime-version', 'subject', 'to'],
    'no other header (no multipart, no attachment)',
  );
  assert.equal(received.mailFrom, FROM);
  assert.deepEqual(received.rcptTo, to);
  // What a relay cannot mangle: 7-bit, lines within RFC 5322's 998.
  assert.ok(
    [...body].every((c) => c.charCodeAt(0) < 0x80),
    'a 7-bit body',
  );
  assert.ok(
    body.split('\r\n').every((line) => line.length <= 998),
    'no line over 998',
  );
  const decoded = encoding === 'quoted-printable' ? decodeQuotedPrintable(body) : Buffer.from(body, 'latin1');
  assert.ok(decoded.equals(asMailText(msg.payload)), `the body is the payload:\n${decoded.toString('utf8')}`);
  assert.equal(
    new TextDecoder('utf-8', { fatal: true }).decode(decoded).replace(/\r\n/g, '\n'),
    msg.payload.endsWith('\n') ? msg.payload : `${msg.payload}\n`,
  );
}

describe('MailSender', () => {
  test('accepted: one mail to every address, From/To/Subject/Message-ID, text/plain, the body exactly the payload', async () => {
    const rx = await smtp({ hideSTARTTLS: true });
    const s = sender(`smtp://127.0.0.1:${rx.port}`);
    const to = ['crm@dealer.test', 'backup@dealer.test'];
    const cases: [string, '7bit' | 'quoted-printable'][] = [
      [ADF, 'quoted-printable'],
      [PLAIN, '7bit'],
    ];
    for (const [i, [payload, encoding]] of cases.entries()) {
      const msg = message(payload);
      const r = await s.send(crm(...to), msg);
      assert.equal(r.verdict, 'delivered', String(r.error));
      assert.equal(r.statusCode, 250);
      assert.equal(r.responseBody, `250 2.0.0 Queued as Q-${i + 1}`);
      assert.equal(r.error, null);
      assert.equal(r.responseHeaders, null);
      assert.equal(r.at, NOW);
      assert.ok(r.durationMs >= 0);
      assert.equal(r.message, msg);
      assert.equal(rx.data.length, i + 1, 'one mail per send, whatever the number of addresses');
      assertMail(rx.data[i] as Received, msg, to, encoding);
    }
    assert.equal(rx.connections, 1, 'the second mail reused the pooled connection');
  });

  test('one address refused, another accepted: delivered, the refusal kept in the reply', async () => {
    const rx = await smtp({
      hideSTARTTLS: true,
      onRcptTo: (address, _session, callback) =>
        callback(address.address === 'old@dealer.test' ? smtpError(550, '5.1.1 <old@dealer.test>: no such user') : null),
    });
    const r = await sender(`smtp://127.0.0.1:${rx.port}`).send(crm('old@dealer.test', 'crm@dealer.test'), message());
    assert.equal(r.verdict, 'delivered');
    assert.equal(r.statusCode, 250);
    assert.equal(r.responseBody, '250 2.0.0 Queued as Q-1\nrefused old@dealer.test: 550 5.1.1 <old@dealer.test>: no such user');
    assert.deepEqual(accepted(rx)[0]?.rcptTo, ['crm@dealer.test']);
  });

  for (const when of ['RCPT', 'DATA'] as const) {
    test(`451 on ${when} once: failed (retried on the schedule), then delivered with the same Message-ID`, async () => {
      let rcpts = 0;
      const rx = await smtp({
        hideSTARTTLS: true,
        ...(when === 'RCPT'
          ? { onRcptTo: (_address, _session, callback) => callback(++rcpts === 1 ? smtpError(451, '4.3.0 Try again later') : null) }
          : { refuseData: (n) => (n === 1 ? smtpError(451, '4.3.0 Try again later') : undefined) }),
      });
      const s = sender(`smtp://127.0.0.1:${rx.port}`);
      const msg = message(ADF);
      const first = await s.send(crm('crm@dealer.test'), msg);
      assert.equal(first.verdict, 'failed');
      assert.equal(first.statusCode, 451);
      assert.match(first.error ?? '', /451 4\.3\.0 Try again later/);
      assert.match(first.responseBody ?? '', /451 4\.3\.0 Try again later/);
      assert.equal(accepted(rx).length, 0);

      const second = await s.send(crm('crm@dealer.test'), msg);
      assert.equal(second.verdict, 'delivered', String(second.error));
      assert.equal(second.statusCode, 250);
      assert.equal(accepted(rx).length, 1);
      assertMail(accepted(rx)[0] as Received, msg, ['crm@dealer.test'], 'quoted-printable');
      // A receiver that saw the refused DATA recognises the retry.
      assert.deepEqual(
        rx.data.map((d) => parse(d.raw).headers.get('message-id')),
        when === 'DATA' ? [`<${msg.id}@dealer-gateway>`, `<${msg.id}@dealer-gateway>`] : [`<${msg.id}@dealer-gateway>`],
      );
    });
  }

  const refusals: { name: string; options: Parameters<typeof smtp>[0]; code: number; reply: RegExp; verdict: 'rejected' | 'failed' }[] = [
    {
      name: '550 on RCPT for every address: rejected (a dead letter), every refusal kept',
      options: { onRcptTo: (a, _s, callback) => callback(smtpError(550, `5.1.1 <${a.address}>: no such user`)) },
      code: 550,
      reply: /550 5\.1\.1 <(crm|backup)@dealer\.test>: no such user/,
      verdict: 'rejected',
    },
    {
      name: '550 on MAIL FROM: rejected',
      options: { onMailFrom: (_a, _s, callback) => callback(smtpError(550, '5.7.1 Sender not allowed')) },
      code: 550,
      reply: /550 5\.7\.1 Sender not allowed/,
      verdict: 'rejected',
    },
    {
      name: '554 on DATA: rejected',
      options: { refuseData: () => smtpError(554, '5.6.0 Content refused') },
      code: 554,
      reply: /554 5\.6\.0 Content refused/,
      verdict: 'rejected',
    },
    {
      name: 'one address 550, the other 451: failed (the deferred one may be taken later)',
      options: {
        onRcptTo: (a, _s, callback) =>
          callback(a.address === 'crm@dealer.test' ? smtpError(550, '5.1.1 no such user') : smtpError(451, '4.2.1 Mailbox busy')),
      },
      code: 451,
      reply: /451 4\.2\.1 Mailbox busy/,
      verdict: 'failed',
    },
  ];
  for (const { name, options, code, reply, verdict } of refusals) {
    test(name, async () => {
      const rx = await smtp({ hideSTARTTLS: true, ...options });
      const r = await sender(`smtp://127.0.0.1:${rx.port}`).send(crm('crm@dealer.test', 'backup@dealer.test'), message());
      assert.equal(r.verdict, verdict);
      assert.equal(r.statusCode, code);
      assert.match(r.error ?? '', reply, 'the server reply is in error');
      assert.match(r.responseBody ?? '', reply);
      assert.equal(accepted(rx).length, 0);
    });
  }
  test('every address refused: both refusals in the reply', async () => {
    const rx = await smtp({ hideSTARTTLS: true, onRcptTo: (a, _s, callback) => callback(smtpError(550, `5.1.1 <${a.address}> unknown`)) });
    const r = await sender(`smtp://127.0.0.1:${rx.port}`).send(crm('crm@dealer.test', 'backup@dealer.test'), message());
    assert.equal(r.verdict, 'rejected');
    assert.equal(
      r.responseBody,
      'refused crm@dealer.test: 550 5.1.1 <crm@dealer.test> unknown\nrefused backup@dealer.test: 550 5.1.1 <backup@dealer.test> unknown',
    );
  });

  test('a destination without usable addresses: rejected, nothing sent', async () => {
    const rx = await smtp({ hideSTARTTLS: true });
    const s = sender(`smtp://127.0.0.1:${rx.port}`);
    for (const emailTo of [null, '', '[]', 'crm@dealer.test', '"crm@dealer.test"', '[1]', '[""]', '["crm@dealer.test", null]']) {
      const r = await s.send({ name: 'crm', email_to: emailTo }, message());
      assert.equal(r.verdict, 'rejected', String(emailTo));
      assert.equal(r.statusCode, null);
      assert.match(r.error ?? '', /^unusable destination crm: email_to must be a JSON array of addresses/);
    }
    assert.equal(rx.connections, 0);
  });

  test('an SMTP URL that is not smtp:// or smtps://: refused at construction, without the URL (it holds the password)', () => {
    for (const smtpUrl of ['', 'mail.example.test:587', 'http://gw:s3cret@mail.example.test', 'smtp//gw:s3cret@mail.example.test']) {
      assert.throws(
        () => new MailSender({ smtpUrl, allowInsecure: false, from: FROM, timeoutMs: 1000 }),
        (error: Error) =>
          /^SMTP URL: smtp:\/\/user:pass@host:port or smtps:\/\//.test(error.message) &&
          !JSON.stringify({ ...error, m: error.message }).includes('s3cret'),
        smtpUrl,
      );
    }
  });

  test('no server (connection refused): failed', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const r = await sender(`smtp://127.0.0.1:${port}`).send(crm('crm@dealer.test'), message());
    assert.equal(r.verdict, 'failed');
    assert.equal(r.statusCode, null);
    assert.equal(r.responseBody, null);
    assert.match(r.error ?? '', /ECONNREFUSED/);
  });

  test('a server that never greets: failed after timeoutMs', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const { port } = silent.address() as AddressInfo;
    const r = await sender(`smtp://127.0.0.1:${port}`, { timeoutMs: 300 }).send(crm('crm@dealer.test'), message());
    assert.equal(r.verdict, 'failed');
    assert.match(r.error ?? '', /^timeout: /);
    assert.ok(r.durationMs >= 250 && r.durationMs < 3000, String(r.durationMs));
  });

  test('aborted by the caller: failed, nothing sent', async () => {
    const rx = await smtp({ hideSTARTTLS: true });
    const r = await sender(`smtp://127.0.0.1:${rx.port}`).send(crm('crm@dealer.test'), message(), AbortSignal.abort());
    assert.equal(r.verdict, 'failed');
    assert.equal(r.error, 'aborted: the sender stopped');
    assert.equal(accepted(rx).length, 0);
  });

  describe('TLS', () => {
    test('no STARTTLS on the server: failed unless allowInsecure, and then delivered in plain text', async () => {
      const rx = await smtp({ hideSTARTTLS: true, disabledCommands: ['STARTTLS'] });
      const strict = await sender(`smtp://127.0.0.1:${rx.port}`, { allowInsecure: false }).send(crm('crm@dealer.test'), message());
      assert.equal(strict.verdict, 'failed');
      assert.match(strict.error ?? '', /^TLS required: Error upgrading connection with STARTTLS: 5\d\d /);
      assert.equal(rx.mailFroms, 0, 'nothing of the mail went in plain text');

      const insecure = await sender(`smtp://127.0.0.1:${rx.port}`, { allowInsecure: true }).send(crm('crm@dealer.test'), message());
      assert.equal(insecure.verdict, 'delivered', String(insecure.error));
      assert.equal(accepted(rx)[0]?.secure, false);
    });

    test('an untrusted certificate (smtp-server’s own, self-signed and expired): failed unless allowInsecure', async () => {
      const rx = await smtp(); // offers STARTTLS
      const strict = await sender(`smtp://127.0.0.1:${rx.port}`, { allowInsecure: false }).send(crm('crm@dealer.test'), message());
      assert.equal(strict.verdict, 'failed');
      assert.match(strict.error ?? '', /^TLS required: certificate has expired \(CERT_HAS_EXPIRED\)$/);
      assert.equal(rx.mailFroms, 0);

      const insecure = await sender(`smtp://127.0.0.1:${rx.port}`, { allowInsecure: true }).send(crm('crm@dealer.test'), message());
      assert.equal(insecure.verdict, 'delivered', String(insecure.error));
      assert.equal(accepted(rx)[0]?.secure, true, 'STARTTLS where offered, even when insecure is allowed');
    });

    const opensslMissing = (() => {
      try {
        execFileSync('openssl', ['version'], { stdio: 'ignore' });
        return false;
      } catch {
        return 'openssl not installed: no trusted test certificate can be made';
      }
    })();
    test('a trusted certificate: STARTTLS (smtp://) and implicit TLS (smtps://), with authentication', {
      skip: opensslMissing,
    }, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dg-smtp-tls-'));
      const defaults = tls.getCACertificates('default');
      try {
        execFileSync(
          'openssl',
          [
            ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', 'key.pem', '-out', 'cert.pem'],
            ...['-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1'],
          ],
          { stdio: 'ignore', cwd: dir },
        );
        const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
        const key = readFileSync(join(dir, 'key.pem'), 'utf8');
        // As if a public CA had issued it: nodemailer verifies against the default store.
        tls.setDefaultCACertificates([...defaults, cert]);
        const onAuth: SMTPServerOptions['onAuth'] = (auth, _session, callback) =>
          auth.username === 'gw' && auth.password === 'secret'
            ? callback(null, { user: 'gw' })
            : callback(new Error('Invalid credentials'));
        const starttls = await smtp({ key, cert, authOptional: false, onAuth });
        const implicit = await smtp({ key, cert, secure: true, authOptional: false, onAuth });
        for (const [rx, url] of [
          [starttls, `smtp://gw:secret@127.0.0.1:${starttls.port}`],
          [implicit, `smtps://gw:secret@127.0.0.1:${implicit.port}`],
        ] as const) {
          const r = await sender(url, { allowInsecure: false }).send(crm('crm@dealer.test'), message(ADF));
          assert.equal(r.verdict, 'delivered', `${url}: ${r.error}`);
          const mail = accepted(rx)[0] as Received;
          assert.equal(mail.secure, true);
          assert.equal(mail.user, 'gw');
        }
      } finally {
        tls.setDefaultCACertificates(defaults);
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('authentication from the URL', () => {
    const user = 'crm@dealer';
    const password = 'p@ss:w/rd%20 ü';
    const authServer = () =>
      smtp({
        hideSTARTTLS: true,
        allowInsecureAuth: true,
        authOptional: false,
        onAuth: (auth, _session, callback) =>
          auth.username === user && auth.password === password ? callback(null, { user }) : callback(new Error('Invalid credentials')),
      });
    const url = (port: number, pass: string) => `smtp://${encodeURIComponent(user)}:${encodeURIComponent(pass)}@127.0.0.1:${port}`;

    test('the right credentials (percent-encoded in the URL): delivered as that user', async () => {
      const rx = await authServer();
      const r = await sender(url(rx.port, password)).send(crm('crm@dealer.test'), message());
      assert.equal(r.verdict, 'delivered', String(r.error));
      assert.equal(accepted(rx)[0]?.user, user);
    });

    // 535 is a 5xx, but it says our configuration is wrong, not the message: failed, so the
    // messages still wait (on the schedule, then the breaker) for a fixed password.
    test('a wrong password: failed, and a fixed password delivers', async () => {
      const rx = await authServer();
      const wrong = await sender(url(rx.port, 'wrong')).send(crm('crm@dealer.test'), message());
      assert.equal(wrong.verdict, 'failed');
      assert.equal(wrong.statusCode, 535);
      assert.match(wrong.error ?? '', /535 .*Invalid credentials/);
      assert.equal(rx.mailFroms, 0);
      const fixed = await sender(url(rx.port, password)).send(crm('crm@dealer.test'), message());
      assert.equal(fixed.verdict, 'delivered', String(fixed.error));
    });

    test('no credentials where the server requires them (530 on MAIL FROM): failed, not rejected', async () => {
      const rx = await authServer();
      const r = await sender(`smtp://127.0.0.1:${rx.port}`).send(crm('crm@dealer.test'), message());
      assert.equal(r.verdict, 'failed');
      assert.equal(r.statusCode, 530);
      assert.equal(accepted(rx).length, 0);
    });
  });
});
