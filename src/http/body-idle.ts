// A request body that stops arriving is cut with 408 REQUEST_TIMEOUT once no part of it has come
// for BODY_IDLE_TIMEOUT_MS, instead of holding its in-flight place until REQUEST_TIMEOUT_MS (30 s).
// Most bodies arrived whole with their headers: those are read as they are, with no timer and no
// extra stream on the hot path. Only a body still on its way is read through a pass-through that
// restarts one timer per chunk.
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';

/** The payload Fastify should read: `payload` itself when the body is already here. */
export function guardBodyIdle(request: FastifyRequest, reply: FastifyReply, payload: Readable, idleMs: number): Readable {
  if (request.raw.complete) return payload;
  const timer = setTimeout(() => {
    // Fastify's body reader answers a stream error through the error handler: 408 in the route's
    // envelope, with `Connection: close` since the rest of the body will not be read.
    guard.destroy(new AppError('REQUEST_TIMEOUT', `No part of the request body arrived for ${idleMs / 1000} s`));
  }, idleMs);
  const guard = new Transform({
    transform(chunk, _encoding, callback) {
      timer.refresh();
      callback(null, chunk);
    },
    flush(callback) {
      clearTimeout(timer);
      callback();
    },
  });
  // Fastify listens for errors only while it reads: an answer given before the body ended (413)
  // leaves the guard unread, and its timeout must not become an uncaught error.
  guard.on('error', () => {});
  guard.once('close', () => clearTimeout(timer));
  reply.raw.once('close', () => clearTimeout(timer));
  // pipe() does not carry errors: a client that goes away mid-body must still end the read.
  payload.once('error', (err) => guard.destroy(err));
  payload.pipe(guard);
  return guard;
}
