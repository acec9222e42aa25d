// Answers Node's HTTP layer gives before Fastify has a request: unparseable HTTP, headers or a
// URL over the header limit (16 KB), and requests that outlast HEADERS_TIMEOUT_MS or
// REQUEST_TIMEOUT_MS. Node hands them to the server's 'clientError' listener with the socket; we
// write a whole response on it, in the envelope of the path's family (read from the request line
// when there is one), with an X-Request-Id, then close the connection. CONNECT requests, which
// Node hands to the 'connect' listener and never to the router, are answered the same way (405).
// (Upgrade requests need nothing here: with no 'upgrade' listener Node serves them as requests.)
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type ErrorCode, httpStatusOf } from '../core/errors.js';
import { type ErrorReply, envelopeOfPath, errorBody, errorHeaders, pathOf } from './envelopes.js';
import { errorReply } from './error-handler.js';

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
  // Any method token (RFC 9110 §5.6.2), so `get /leads/…` — which the parser refuses, as methods
  // are case-sensitive — still gets the envelope of the path it named.
  const target = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+ (\S+)/.exec(line)?.[1] ?? '';
  return pathOf(target);
}

/**
 * Writes a whole error answer on a socket no Fastify reply owns (the parser refused the request,
 * or Node handed the socket over for CONNECT), in the envelope of `path`'s family, with an
 * X-Request-Id and `Connection: close`, then ends the connection.
 */
function writeSocketError(
  socket: Socket,
  target: { readonly path: string; readonly requestId: string },
  error: ErrorReply,
  extraHeaders: Record<string, string> = {},
): void {
  if (socket.writable && !(socket as HttpSocket)._httpMessage?.headersSent) {
    const { path, requestId } = target;
    const body = JSON.stringify(errorBody(envelopeOfPath(path), target, error));
    const headers = {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
      'x-request-id': requestId,
      connection: 'close',
      ...errorHeaders(error, path),
      ...extraHeaders,
    };
    const head = Object.entries(headers)
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    socket.end(`HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? 'Error'}\r\n${head}\r\n${body}`);
  }
  // end() flushes the answer; destroy if the peer never reads it.
  setTimeout(() => socket.destroy(), 1000).unref();
}

/** Fastify's `clientErrorHandler` (called with the Fastify instance as `this`). */
export function clientErrorHandler(this: FastifyInstance, err: ClientError, socket: Socket): void {
  // The peer reset the connection: nobody to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { code, message } = codeFor(err);
  const status = httpStatusOf(code);
  const requestId = randomUUID();
  const path = requestPath(err, socket as HttpSocket);
  this.log.info({ reqId: requestId, errorCode: code, cause: err.code, path }, 'request refused by the HTTP parser');
  writeSocketError(socket, { path, requestId }, { code, status, message });
}

/** Methods Fastify routes may answer to, for the `Allow` of a CONNECT to a path we serve. */
const ROUTE_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'] as const;

/** The methods with a route for this path, sorted ([] for a host:port target or no route). */
function allowedMethods(app: FastifyInstance, path: string): string[] {
  if (!path.startsWith('/')) return [];
  try {
    return ROUTE_METHODS.filter((method) => app.findRoute({ method, url: path }) !== null);
  } catch {
    // A URL the router cannot read (bad percent-encoding): no route, so nothing is allowed.
    return [];
  }
}

/**
 * The server's 'connect' listener. Node hands CONNECT requests (tunnels, as a proxy would open)
 * to it instead of the router, and without a listener closes the connection with no answer.
 * The service is not a proxy: 405 METHOD_NOT_ALLOWED with `Allow` (the methods the target path
 * has routes for; empty for a `host:port` target) and `Connection: close`, then the socket closes.
 */
export function refuseConnect(app: FastifyInstance): (req: IncomingMessage, socket: Duplex) => void {
  return (req, duplex) => {
    const socket = duplex as Socket;
    // Node no longer listens on this socket: without a listener a reset would crash the process.
    socket.on('error', () => {});
    // Read and drop whatever follows (a TLS ClientHello…): unread bytes at close make the kernel
    // send a reset, which can discard the answer before the client reads it.
    socket.resume();
    if (socket.destroyed) return;
    const requestId = randomUUID();
    const target = req.url ?? '';
    const path = pathOf(target);
    const allow = allowedMethods(app, path);
    const message = `CONNECT is not allowed on ${target}; ${allow.length > 0 ? `allowed: ${allow.join(', ')}` : 'this service is not a proxy'}`;
    app.log.info({ reqId: requestId, errorCode: 'METHOD_NOT_ALLOWED', method: 'CONNECT', path }, 'CONNECT refused');
    writeSocketError(socket, { path, requestId }, errorReply('METHOD_NOT_ALLOWED', message), { allow: allow.join(', ') });
  };
}
