// Which sender carries a message: HTTP for webhooks, SMTP for email destinations (their ADF
// document as the mail's body). The SMTP transport is made on the first email message, so a
// service with no email destination never opens one.
import type { DestinationRow, OutboxMessageRow } from '../db/schema.js';
import type { AttemptRecord } from './delivery.repository.js';
import { MailSender } from './mail-sender.js';
import { HttpSender, type SenderOptions } from './sender.js';

export interface DispatchOptions extends SenderOptions {
  /** SMTP_URL; null: email destinations cannot send (their attempts fail, saying so). */
  readonly smtpUrl: string | null;
  readonly smtpAllowInsecure: boolean;
  readonly smtpFrom: string;
}

export class Dispatcher {
  private readonly http: HttpSender;
  private mail: MailSender | undefined;
  private readonly clock: () => number;

  constructor(private readonly options: DispatchOptions) {
    this.http = new HttpSender(options);
    this.clock = options.clock ?? Date.now;
  }

  /** One attempt; never throws. */
  send(destination: DestinationRow, message: OutboxMessageRow, signal?: AbortSignal): Promise<AttemptRecord> {
    // A lead no ADF document could be made of (retried by an operator): nothing to send.
    if (message.payload === '')
      return Promise.resolve(this.refused(message, `no document to send: ${message.last_error ?? 'none was made'}`));
    if (destination.kind !== 'email') return this.http.send(destination, message, signal);
    const { smtpUrl, smtpAllowInsecure, smtpFrom, timeoutMs } = this.options;
    if (smtpUrl === null) {
      // Failed, not rejected: once SMTP_URL is set (and the service restarted) the schedule sends it.
      return Promise.resolve(this.refused(message, 'refused: SMTP_URL is not set, so email destinations cannot send', 'failed'));
    }
    this.mail ??= new MailSender({ smtpUrl, allowInsecure: smtpAllowInsecure, from: smtpFrom, timeoutMs, clock: this.clock });
    return this.mail.send(destination, message, signal);
  }

  private refused(message: OutboxMessageRow, error: string, verdict: 'failed' | 'rejected' = 'rejected'): AttemptRecord {
    return { message, at: this.clock(), durationMs: 0, statusCode: null, responseHeaders: null, responseBody: null, error, verdict };
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.mail?.close()]);
  }
}
