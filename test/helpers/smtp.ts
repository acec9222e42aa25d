// A real SMTP server on 127.0.0.1 for tests of email destinations (smtp-server, no TLS: the tests
// set SMTP_ALLOW_INSECURE). It keeps every mail it accepted, may refuse recipients, and may take
// its time before accepting a mail (so a kill finds mails in flight).
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

interface Mail {
  readonly to: string[];
  /** The raw message: headers, a blank line, the (possibly quoted-printable) body. */
  readonly raw: string;
  /** Its Message-ID without the angle brackets ('' when none). */
  readonly messageId: string;
}

export interface SmtpServerOptions {
  /** The n-th RCPT TO (1-based, over the server's life) is refused with this, if anything. */
  readonly refuseRcpt?: (n: number) => { readonly code: number; readonly text: string } | undefined;
  /** How long to wait before accepting a mail's DATA, ms. */
  readonly acceptAfterMs?: () => number;
}

export interface TestSmtpServer {
  readonly url: string;
  /** Accepted mails, in the order their DATA was accepted. */
  readonly mails: Mail[];
  close(): Promise<void>;
}

export async function startSmtpServer(options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const mails: Mail[] = [];
  let rcpts = 0;
  const server = new SMTPServer({
    logger: false,
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    onRcptTo(_address, _session, callback) {
      const refusal = options.refuseRcpt?.(++rcpts);
      if (refusal) callback(Object.assign(new Error(refusal.text), { responseCode: refusal.code }));
      else callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const mail = {
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          messageId: /^message-id:\s*<([^>]+)>/im.exec(raw)?.[1] ?? '',
        };
        setTimeout(() => {
          mails.push(mail);
          callback();
        }, options.acceptAfterMs?.() ?? 0);
      });
    },
  });
  // A sender killed mid-session resets its connection: the server reports it, nothing more.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** The text/plain body of a mail, quoted-printable decoded (soft line breaks joined), with \n line ends. */
export function mailBody(raw: string): string {
  const [head = '', ...rest] = raw.split('\r\n\r\n');
  const body = rest.join('\r\n\r\n');
  if (!/content-transfer-encoding:\s*quoted-printable/i.test(head)) return body.replace(/\r\n/g, '\n');
  const joined = body.replace(/=\r\n/g, '');
  const bytes = Buffer.from(
    joined.replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
    'latin1',
  );
  return bytes.toString('utf8').replace(/\r\n/g, '\n');
}
