// `dealer-gateway <command>`: each command parses its own flags, loads the config from the
// environment and calls services (never HTTP routes). Returns the process exit code.
import { adminTokenCommand } from './admin-token.command.js';
import { applyCommand } from './apply.command.js';
import type { Command } from './command.js';
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
  hashPasswordCommand,
  adminTokenCommand,
];

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: dealer-gateway <command> [options]',
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
    return name === undefined ? 1 : 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n\n${usage()}\n`);
    return 1;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.help}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
