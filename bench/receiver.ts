// A no-op webhook receiver for the delivery benches: answers every POST 204 once its body has
// arrived, verifies nothing. Its own process, so the sender and the receiver do not share an
// event loop. Prints its port on stdout once listening; stops on SIGTERM.
//
// It also measures lag: each envelope's `timestamp` is the moment its outcome was written (the
// outbox row is made in the outcome's transaction, just before the commit), so arrival time less
// that timestamp is the lag from outcome commit to 2xx, as the issue defines it (slightly over:
// the commit comes a little after the timestamp). `GET /stats` answers the count and lag
// percentiles since the last `POST /stats/reset`.
import { createServer } from 'node:http';

let received = 0;
let lags: number[] = [];
/** The envelope starts {"type":"…","timestamp":"…": a regex, so the receiver's cost stays a parse-free constant. */
const TIMESTAMP = /"timestamp":"([^"]+)"/;

function stats() {
  const sorted = [...lags].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null));
  return { received, lagged: sorted.length, lagP50Ms: at(0.5), lagP99Ms: at(0.99), lagMaxMs: sorted.at(-1) ?? null };
}

const server = createServer((req, res) => {
  if (req.url === '/stats') {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(stats()));
    return;
  }
  if (req.url === '/stats/reset') {
    received = 0;
    lags = [];
    req.resume();
    res.writeHead(204).end();
    return;
  }
  let head = '';
  req.on('data', (chunk: Buffer) => {
    if (head.length < 200) head += chunk.toString('utf8', 0, Math.min(chunk.length, 200));
  });
  req.on('end', () => {
    const arrived = Date.now();
    received++;
    const stamp = TIMESTAMP.exec(head)?.[1];
    if (stamp) lags.push(arrived - Date.parse(stamp));
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
