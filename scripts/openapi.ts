// Writes the OpenAPI document the app serves at /openapi.json to docs/openapi.json (the copy
// partners and client generators read; test/http/openapi-contract.test.ts fails when it drifts).
//   npm run openapi
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/core/config.js';

const dir = mkdtempSync(join(tmpdir(), 'dg-openapi-'));
try {
  // A throwaway database: the document depends on the routes only, never on data.
  const config = loadConfig({ DATABASE_URL: `sqlite:${join(dir, 'openapi.db')}`, ADMIN_TOKEN: 'x'.repeat(32), WORKER_ENABLED: 'false' });
  const app = await buildApp(config, { logger: false, storage: 'inline' });
  await app.ready();
  writeFileSync(new URL('../docs/openapi.json', import.meta.url), `${JSON.stringify(app.swagger(), null, 2)}\n`);
  await app.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
