// Mails one message to an email destination and says what came of it, as HttpSender does for
// webhooks. One pooled SMTP transport (nodemailer) for every email destination; the message's
// ADF document is the whole text/plain body (CRMs parse that body, so no HTML part, no
// attachment), and its Message-ID is made of the message id, the same on every attempt, so a
// receiver can recognise a retry. What the server answered is kept; nothing here throws.
import nodemailer, { type NodemailerError, type SMTPPoolOptions, type SMTPPoolSentMessageInfo, type Transporter } from 'nodemailer';
import type { DestinationRow, OutboxMessageRow } from '../db/schema.js';
import type { AttemptRecord } from './delivery.repository.js';

export interface MailSenderOptions {
  /** smtp://user:pass@host:port (STARTTLS) or smtps://… (TLS from the start); credentials percent-encoded. */
  readonly smtpUrl: string;
  /** Plain SMTP allowed, and a server certificate not checked: a relay on a trusted network only. */
  readonly allowInsecure: boolean;
  readonly from: string;
  readonly timeoutMs: number;
  /** Epoch ms; tests move it. */
  readonly clock?: () => number;
}

/** What the sender needs of a destination: `email_to` is a JSON array of addresses. */
export type MailDestination = Pick<DestinationRow, 'name' | 'email_to'>;

export class MailSender {
  private readonly transport: Transporter<SMTPPoolSentMessageInfo, SMTPPoolOptions>;
  private readonly clock: () => number;

  constructor(private readonly options: MailSenderOptions) {
    this.clock = options.clock ?? Date.now;
    this.transport = nodemailer.createTransport({ ...transportOptions(options), pool: true });
  }

  /** One attempt; never throws: every failure is an AttemptRecord with its reason. */
  async send(destination: MailDestination, message: OutboxMessageRow, signal?: AbortSignal): Promise<AttemptRecord> {
    const at = this.clock();
    const started = performance.now();
    const record = (fields: Pick<AttemptRecord, 'statusCode' | 'responseBody' | 'error' | 'verdict'>): AttemptRecord => ({
      message,
      at,
      durationMs: performance.now() - started,
      responseHeaders: null,
      ...fields,
    });
    const to = recipients(destination.email_to);
    if (to === null) {
      // Retrying cannot help: the destination must be edited.
      const error = `unusable destination ${destination.name}: email_to must be a JSON array of addresses`;
      return record({ statusCode: null, responseBody: null, error, verdict: 'rejected' });
    }
    try {
      const info = await this.transport.sendMail({
        from: this.options.from,
        to,
        subject: `Lead ${message.source_id}`,
        text: message.payload,
        messageId: `<${message.id}@dealer-gateway>`,
        // 7bit when the document allows it, else quoted-printable: never base64, which
        // nodemailer picks for mostly non-Latin text and a naive parser would not read.
        textEncoding: 'quoted-printable',
        ...(signal ? { signal } : {}),
      });
      // Some recipients may have been refused: the mail went to the others, and cannot be sent
      // again to the refused ones alone without a duplicate; the reply says who.
      return record({
        statusCode: replyCode(info.response),
        responseBody: [info.response, ...refusals(info.rejectedErrors)].join('\n'),
        error: null,
        verdict: 'delivered',
      });
    } catch (caught) {
      const e: NodemailerError = caught instanceof Error ? caught : new Error(String(caught));
      const listed = refusals(e.rejectedErrors);
      return record({
        statusCode: e.responseCode ?? null,
        responseBody: listed.length > 0 ? listed.join('\n') : (e.response ?? null),
        error: describe(e, this.options.allowInsecure),
        verdict: refusedForGood(e) ? 'rejected' : 'failed',
      });
    }
  }

  /** Idle connections close at once, busy ones after their message. */
  async close(): Promise<void> {
    this.transport.close();
  }
}

/**
 * The URL parsed here rather than by nodemailer, whose URL query can set any option (even
 * requireTLS=false): allowInsecure alone decides the transport's security.
 */
function transportOptions(options: MailSenderOptions): SMTPPoolOptions {
  // Thrown at startup, and without the URL itself (URL's own error carries it, password included).
  const url = URL.parse(options.smtpUrl);
  if (url?.protocol !== 'smtp:' && url?.protocol !== 'smtps:') throw new Error('SMTP URL: smtp://user:pass@host:port or smtps://…');
  const insecure = options.allowInsecure;
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    ...(url.port ? { port: Number(url.port) } : {}),
    secure: url.protocol === 'smtps:',
    ...(url.username ? { auth: { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } } : {}),
    // smtp://: STARTTLS or nothing is sent (the credentials, the lead's personal data). Insecure:
    // STARTTLS where offered, plain where not or where it fails, any certificate (a local relay's
    // is often self-signed).
    requireTLS: !insecure,
    opportunisticTLS: insecure,
    tls: { rejectUnauthorized: !insecure },
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
    dnsTimeout: options.timeoutMs,
  };
}

/** The addresses, or null when the destination has none usable. */
function recipients(emailTo: string | null): string[] | null {
  try {
    const to: unknown = JSON.parse(emailTo ?? 'null');
    if (!Array.isArray(to) || to.length === 0) return null;
    return to.every((a) => typeof a === 'string' && a.trim() !== '') ? to : null;
  } catch {
    return null;
  }
}

/**
 * A 5xx to MAIL, every RCPT, or DATA: the server refuses this mail for good, retrying sends it
 * again to the same answer. Not 530 (authentication or STARTTLS required), nor a 5xx to AUTH,
 * STARTTLS or the greeting (those are nodemailer's EAUTH, ETLS, ECONNECTION): our configuration
 * is wrong, not the message, and a fixed configuration must find the messages still waiting.
 */
function refusedForGood(e: NodemailerError): boolean {
  return e.permanent === true && (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') && e.responseCode !== 530;
}

function refusals(errors: readonly NodemailerError[] | undefined): string[] {
  return (errors ?? []).map((r) => `refused ${r.recipient}: ${r.response ?? r.message}`);
}

function replyCode(reply: string): number | null {
  const code = /^\d{3}/.exec(reply);
  return code ? Number(code[0]) : null;
}

/** Node's codes for a failed handshake or an unverified certificate (nodemailer reports them as ESOCKET). */
const TLS_FAILURE = /CERT|SELF_SIGNED|UNABLE_TO_|SSL|TLS/;

/** The attempt log's reason; nodemailer's message already ends with the server's reply. */
function describe(e: NodemailerError, insecure: boolean): string {
  if (e.name === 'AbortError') return 'aborted: the sender stopped';
  if (e.code === 'ETIMEDOUT') return `timeout: ${e.message}`;
  if (e.code === 'ETLS' || TLS_FAILURE.test(e.originalCode ?? '')) {
    return `${insecure ? 'TLS' : 'TLS required'}: ${e.message}${e.originalCode ? ` (${e.originalCode})` : ''}`;
  }
  return e.message || String(e);
}
