// `dealer-gateway <command>`: each command parses its own flags, loads the config from the
// environment and calls services (never HTTP routes). Returns the process exit code.

import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { VERSION } from '../core/version.js';
import { adminTokenCommand } from './admin-token.command.js';
import { applyCommand } from './apply.command.js';
import { type Command, UsageError } from './command.js';
import { deliveriesCommand } from './deliveries.command.js';
import { eventsCommand } from './events.command.js';
import { hashPasswordCommand } from './hash-password.command.js';
import { migrateCommand } from './migrate.command.js';
import { serveCommand } from './serve.command.js';
import { workerCommand } from './worker.command.js';

const COMMANDS: readonly Command[] = [
  serveCommand,
  workerCommand,
  migrateCommand,
  applyCommand,
  eventsCommand,
  deliveriesCommand,
  hashPasswordCommand,
  adminTokenCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: dealer-gateway <command> [options]',
    '       dealer-gateway --version',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `dealer-gateway <command> --help` for a command’s options.',
    'Configuration comes from environment variables (DATABASE_URL, PORT, HOST, LOG_LEVEL, …); see README.md.',
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    const what = name.startsWith('-') ? `unknown option ${name}` : `unknown command "${name}"`;
    process.stderr.write(`dealer-gateway: ${what}\n\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`dealer-gateway ${command.name}: ${err.message}\n\n${command.help}\n`);
      return 2;
    }
    process.stderr.write(`dealer-gateway ${command.name}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

// `node dist/cli/main.js <command>`: the compiled entry point run directly (a container image, a
// process manager), without the bin's check for a stale build. Imported (by the bin, by tests),
// it only exports main().
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(realpathSync(entry)).href) {
  process.exitCode = await main(process.argv.slice(2));
}
