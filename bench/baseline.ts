// The baseline: bare Fastify on the service's two POST paths, answering the event gate's
// envelope with nothing behind it (no auth, no validation, no storage, logger off). The service's
// figures are read as a fraction of this: what the framework and this machine allow at most.
// Prints its port on stdout once listening; stops on SIGTERM.
import { randomUUID } from 'node:crypto';
import Fastify from 'fastify';

const app = Fastify({ logger: false });
// The body is parsed as JSON (Fastify's default parser), as the service has to do at least.
const answer = async (request: { body: unknown }) => {
  if (request.body === null || typeof request.body !== 'object') throw new Error('expected a JSON body');
  return { errors: [], warnings: [], requestId: randomUUID() };
};
app.post('/service-pre-diag/third-party-events/vehicle-service-chat/v1', answer);
app.post('/leads/v2/dealer/:dealerUuid', answer);

await app.listen({ port: 0, host: '127.0.0.1' });
const address = app.server.address();
process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
process.once('SIGTERM', () => {
  app.close().then(() => process.exit(0));
});
