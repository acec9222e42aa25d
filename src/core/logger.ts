// pino options shared by the server and the CLI. Credentials never reach a log line: Fastify's
// request serializer does not log headers, and these paths are redacted in case anything does.
import type { LoggerOptions } from 'pino';
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
  return {
    level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { service: 'dealer-gateway' },
    timestamp: () => `,"time":"${new Date().toISOString()}"`,
  };
}
