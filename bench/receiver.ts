// A no-op webhook receiver for the delivery bench: answers every POST 204 once its body has
// arrived, verifies nothing, keeps nothing but a count. Its own process, so the sender and the
// receiver do not share an event loop. Prints its port on stdout once listening; stops on SIGTERM.
import { createServer } from 'node:http';

let received = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.once('SIGTERM', () => {
  process.stderr.write(`receiver: ${received} requests\n`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
