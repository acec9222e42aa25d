// The service as the benchmark runs it: the real app, plus one no-op authenticated route as the
// ceiling to compare storage against. Runs in its own process so the load generator does not
// share its event loop. Prints the port on stdout once listening; stops on SIGTERM.
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';

const config = loadConfig();
const app = await buildApp(config, { logger: false });
app.post('/bench/noop', { onRequest: app.authenticate, config: { envelope: 'events' } }, async () => ({
  errors: [],
  warnings: [],
  requestId: null,
}));
await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});
