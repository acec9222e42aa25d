// The JSON body parser of every route but the event gate: strict UTF-8 (a bad byte is a 400, not
// a U+FFFD), then Fastify's own parser with its prototype-poisoning protection.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeUtf8 } from '../core/utf8.js';

type Done = (err: Error | null, body?: unknown) => void;

export function jsonBodyParser(app: FastifyInstance): (request: FastifyRequest, body: Buffer, done: Done) => void {
  const parseText = app.getDefaultJsonParser('error', 'ignore');
  return (request, body, done) => {
    let text: string;
    try {
      text = decodeUtf8(body);
    } catch (err) {
      done(err as Error);
      return;
    }
    parseText(request, text, done);
  };
}
