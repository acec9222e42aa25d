// What a raw socket received, read as one HTTP/1.1 answer: the tests that must see Node's own
// answers (parser errors, CONNECT, hostile bytes) talk to a real port, not through inject().
import { connect } from 'node:net';

export interface RawAnswer {
  /** The status code; 0 when the connection closed without an answer. */
  readonly status: number;
  readonly statusLine: string;
  /** Header names in lower case. */
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Parses the bytes of one answer; interim answers (100 Continue) before it are skipped. */
export function parseRawAnswer(received: string): RawAnswer {
  const text = received.replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n)+/, '');
  if (text === '') return { status: 0, statusLine: '', headers: {}, body: '' };
  const [head = '', ...rest] = text.split('\r\n\r\n');
  const [statusLine = '', ...lines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), statusLine, headers, body: rest.join('\r\n\r\n') };
}

/**
 * Sends `request` on a new connection and reads until the server closes it (5 s at most). With
 * `halfClose: false` the client keeps its side open, so only the server can end the exchange.
 */
export function rawExchange(port: number, request: string | Buffer, { halfClose = true } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(parseRawAnswer(Buffer.concat(chunks).toString('utf8'))));
    socket.setTimeout(5000, () => socket.destroy(new Error(`no close within 5 s: ${Buffer.concat(chunks).toString('utf8')}`)));
    if (halfClose) socket.end(request);
    else socket.write(request);
  });
}
