// pino options shared by the server and the CLI. Credentials never reach a log line: Fastify's
// request serializer does not log headers, and these paths are redacted in case anything does.
import pino, { type Logger, type LoggerOptions } from 'pino';
import type { LogLevel } from './config.js';

const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  'authorization',
  'req.headers.cookie',
  'headers.cookie',
  'cookie',
  'res.headers["set-cookie"]',
  'headers["set-cookie"]',
  'password',
  'passwordHash',
  'password_hash',
  'previous_password_hash',
  'token',
  '*.password',
  '*.passwordHash',
  '*.password_hash',
  '*.previous_password_hash',
  '*.token',
  'body.password',
  'body.token',
  'req.body.password',
  'req.body.token',
];

export function loggerOptions(level: LogLevel): LoggerOptions {
  return { ...plainOptions(level), redact: { paths: REDACTED_PATHS, censor: '[redacted]' } };
}

function plainOptions(level: LogLevel): LoggerOptions {
  return { level, base: { service: 'dealer-gateway' }, timestamp: () => `,"time":"${new Date().toISOString()}"` };
}

/**
 * Lines wait in memory at most this much while stdout does not keep up (a stalled collector);
 * beyond it new lines are dropped and counted, instead of the process growing without bound.
 */
const LOG_BUFFER_BYTES = 16 * 1024 * 1024;

export interface ServiceLogs {
  /** Every line but the access log's, redacted (REDACTED_PATHS). */
  readonly log: Logger;
  /** The access log's one line per request (src/http/access-log.ts): plain fields, no redaction pass. */
  readonly access: Logger;
  /** Writes what is still buffered, synchronously: at shutdown, so no line is lost on SIGTERM. */
  flush(): void;
}

/**
 * The service's logs: one asynchronous destination on stdout shared by both loggers, so lines
 * keep their order and a request never waits for a write(2). pino's destination flushes what
 * is buffered when the process exits; `flush` does it on purpose at shutdown.
 */
export function serviceLogs(level: LogLevel): ServiceLogs {
  const destination = pino.destination({ dest: 1, sync: false, maxLength: LOG_BUFFER_BYTES });
  const log = pino(loggerOptions(level), destination);
  let dropped = 0;
  destination.on('drop', () => {
    // Reported once a second with the count, when there is room again.
    if (dropped++ === 0) {
      setTimeout(() => {
        log.warn({ dropped }, 'log lines dropped: stdout did not keep up');
        dropped = 0;
      }, 1000).unref();
    }
  });
  return {
    log,
    access: pino(plainOptions(level), destination),
    flush: () => {
      try {
        destination.flushSync();
      } catch {
        // Not open yet, or already closed: nothing of ours is buffered.
      }
    },
  };
}
