// Answers Node's HTTP layer gives before Fastify has a request: unparseable HTTP, headers or a
// URL over the header limit (16 KB), and requests that outlast HEADERS_TIMEOUT_MS or
// REQUEST_TIMEOUT_MS. Node hands them to the server's 'clientError' listener with the socket; we
// write a whole response on it, in the envelope of the path's family (read from the request line
// when there is one), with an X-Request-Id, then close the connection.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type ErrorCode, httpStatusOf } from '../errors.js';
import { envelopeOfPath, errorBody, errorHeaders, pathOf } from './envelopes.js';

interface ClientError extends Error {
  readonly code?: string;
  /** What Node had read of the request when parsing failed (a Buffer). */
  readonly rawPacket?: unknown;
}

/** The socket's current response, when Node got as far as parsing the request line. */
type HttpSocket = Socket & { _httpMessage?: { headersSent?: boolean; req?: { url?: string } } };

function codeFor(err: ClientError): { code: ErrorCode; message: string } {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'REQUEST_TIMEOUT', message: 'The request was not received in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'HEADERS_TOO_LARGE', message: 'The request line and headers exceed 16 KB' };
    default:
      return { code: 'MALFORMED_REQUEST', message: 'The request is not valid HTTP/1.1' };
  }
}

/** The request target, from the parsed request or the raw request line; '' when unknown. */
function requestPath(err: ClientError, socket: HttpSocket): string {
  const parsed = socket._httpMessage?.req?.url;
  if (parsed !== undefined) return pathOf(parsed);
  const raw = Buffer.isBuffer(err.rawPacket) ? err.rawPacket : Buffer.alloc(0);
  const line = raw.subarray(0, 2048).toString('latin1').split('\r\n', 1)[0] ?? '';
  const target = /^[A-Z]+ (\S+)/.exec(line)?.[1] ?? '';
  return pathOf(target);
}

/** Fastify's `clientErrorHandler` (called with the Fastify instance as `this`). */
export function clientErrorHandler(this: FastifyInstance, err: ClientError, socket: Socket): void {
  {
    // The peer reset the connection: nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const httpSocket = socket as HttpSocket;
    const { code, message } = codeFor(err);
    const status = httpStatusOf(code);
    const requestId = randomUUID();
    const path = requestPath(err, httpSocket);
    this.log.info({ reqId: requestId, errorCode: code, cause: err.code, path }, 'request refused by the HTTP parser');
    if (socket.writable && !httpSocket._httpMessage?.headersSent) {
      const error = { code, status, message };
      const body = JSON.stringify(errorBody(envelopeOfPath(path), { path, requestId }, error));
      const headers = {
        'content-type': 'application/json; charset=utf-8',
        'content-length': String(Buffer.byteLength(body)),
        'x-request-id': requestId,
        connection: 'close',
        ...errorHeaders(error, path),
      };
      const head = Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join('');
      socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n${head}\r\n${body}`);
    }
    // end() flushes the answer; destroy if the peer never reads it.
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
