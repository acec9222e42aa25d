// Runs a suite once per dialect, each with its own fresh database, so every storage and HTTP test
// exercises SQLite and PostgreSQL for real.
import { after, before, describe } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { applyProvisioning } from '../../src/provisioning/provisioning.service.js';
import { createTestDatabase, type TestDatabase, testDialects } from './databases.js';

export interface SuiteContext {
  readonly tdb: TestDatabase;
  readonly app: FastifyInstance;
  /** Applies a provisioning document and makes the app see it at once (no poll wait). */
  provision(doc: unknown): Promise<void>;
}

export interface SuiteOptions {
  /** Provisioning applied before the first test. */
  readonly fixture?: unknown;
  /** Extra environment for loadConfig (e.g. MAX_BODY_BYTES). */
  readonly env?: Record<string, string>;
}

export function describeEachDialect(name: string, options: SuiteOptions, body: (ctx: () => SuiteContext) => void): void {
  for (const dialect of testDialects()) {
    describe(`${name} [${dialect}]`, () => {
      let ctx: SuiteContext | undefined;
      before(async () => {
        const tdb = await createTestDatabase(dialect, options.env);
        const app = await buildApp(tdb.config, { db: tdb.db, logger: false });
        const provision = async (doc: unknown) => {
          await applyProvisioning(tdb.db.kysely, doc);
          await app.directory.refresh();
        };
        if (options.fixture !== undefined) await provision(options.fixture);
        ctx = { tdb, app, provision };
      });
      after(async () => {
        await ctx?.app.close();
        await ctx?.tdb.destroy();
      });
      body(() => {
        if (!ctx) throw new Error('suite context used before setup');
        return ctx;
      });
    });
  }
}

export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Polls `check` until it holds (every `everyMs`), or fails naming `what` after `timeoutMs`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 15_000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
