import { readFile } from 'node:fs/promises';
import { loadConfig } from '../core/config.js';
import { type ApplyReport, applyProvisioning } from '../provisioning/provisioning.service.js';
import { ProvisioningError } from '../provisioning/provisioning.validate.js';
import type { Command } from './command.js';
import { parseCommandArgs, UsageError } from './command.js';
import { openCliDatabase } from './database.js';

const help = `Usage: dealer-gateway apply FILE

Makes the database match the provisioning file FILE (JSON): dealers, subscribers with their
scopes, customers and vehicles, and event integrations (validation schema, JSONata transform,
dealer-id mapping). Idempotent; a file with any error is rejected whole, naming each offending
path, and nothing is written. A running service picks up the change within
PROVISIONING_POLL_MS (500 ms). Works whether or not the service is running.`;

function formatReport(report: ApplyReport): string {
  const line = (name: string, t: ApplyReport['dealers']) =>
    `  ${name.padEnd(12)} ${t.created} created, ${t.updated} updated, ${t.unchanged} unchanged`;
  return [
    report.changed ? `applied (provisioning revision ${report.revision})` : `no changes (provisioning revision ${report.revision})`,
    line('dealers', report.dealers),
    line('subscribers', report.subscribers),
    line('customers', report.customers),
    line('vehicles', report.vehicles),
    line('integrations', report.integrations),
    line('destinations', report.destinations),
    // Shown once: only this apply knows them in clear (the receiver needs them to verify).
    ...Object.entries(report.generatedSecrets).map(([name, secret]) => `  secret of destination ${name}: ${secret}`),
    ...Object.entries(report.generatedFeedTokens).map(([name, token]) => `  feed token of destination ${name}: ${token}`),
  ].join('\n');
}

export const applyCommand: Command = {
  name: 'apply',
  summary: 'apply a provisioning file (dealers, subscribers, grants, customers, vehicles, integrations, destinations)',
  help,
  async run(args) {
    const { positionals } = parseCommandArgs(args, {}, help);
    if (positionals.length !== 1) throw new UsageError('expected exactly one FILE');
    const path = positionals[0] as string;
    let doc: unknown;
    try {
      doc = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: ${err instanceof SyntaxError ? `not valid JSON (${err.message})` : (err as Error).message}`);
    }
    const config = loadConfig();
    const db = await openCliDatabase(config);
    try {
      const report = await applyProvisioning(db.kysely, doc, {
        allowPrivateNetworks: config.delivery.allowPrivateNetworks,
        secretOverlapHours: config.delivery.secretOverlapHours,
      });
      process.stdout.write(`${formatReport(report)}\n`);
      return 0;
    } catch (err) {
      if (err instanceof ProvisioningError) throw new Error(`${path}: ${err.message}`);
      throw err;
    } finally {
      await db.close();
    }
  },
};
