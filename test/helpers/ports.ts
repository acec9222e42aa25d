// A free TCP port, for a child process to listen on. Its own module (no node:test import), so
// the benchmark can use it too.
import { createServer } from 'node:net';

/** A TCP port nothing listens on right now (on 127.0.0.1), for a `serve` child to listen on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}
