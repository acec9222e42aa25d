import { sql } from 'kysely';
import { createTestDatabase } from '../test/helpers/databases.js';
import { claimMessages } from '../src/delivery/delivery.repository.js';
import { insertDestination } from '../src/outbox/destination.repository.js';
import { generateSecret } from '../src/delivery/signature.js';
const t = await createTestDatabase((process.env.D as any) ?? 'sqlite');
const db = t.db.kysely;
await insertDestination(db, { name: 'd', url: 'http://127.0.0.1/', eventTypes: ['chat_summary.processed'], dealers: '*', secret: generateSecret(), ordering: 'none', retrySchedule: null, rateLimit: null, enabled: true }, Date.now());
const now = Date.now();
for (let i = 0; i < 20000; i += 1000) await db.insertInto('outbox_messages').values(Array.from({ length: 1000 }, (_, j) => ({ id: `msg_${i + j}`, destination: 'd', event_type: 'chat_summary.processed', dealer_uuid: 'x', ordering_key: 'x', source_id: 's', payload: '{}', created_at: now, status: 'PENDING', next_attempt_at: now }))).execute();
// capture the SQL of the claim
let t0 = performance.now();
for (let k = 0; k < 20; k++) await db.transaction().execute((trx) => claimMessages(trx, t.dialect, { workerId: 'w', now: Date.now(), limit: 16, leaseMs: 30000, inFlight: new Map(), perDestination: 16 }));
console.log('20 claims ms', (performance.now() - t0).toFixed(1));
console.log("URL", t.url);
