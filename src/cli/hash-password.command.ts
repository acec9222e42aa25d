import { hashPassword } from '../auth/password.js';
import type { Command } from './command.js';
import { parseCommandArgs } from './command.js';

const help = `Usage: dealer-gateway hash-password < password.txt

Reads a password from standard input (first line) and prints its scrypt hash, for the
"passwordHash" field of a provisioning file, so that the file need not hold the password.`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export const hashPasswordCommand: Command = {
  name: 'hash-password',
  summary: 'print the scrypt hash of a password read from stdin',
  help,
  async run(args) {
    parseCommandArgs(args, {}, help);
    const password = (await readStdin()).split(/\r?\n/)[0] ?? '';
    if (password.length < 8) throw new Error('password must be at least 8 characters');
    process.stdout.write(`${await hashPassword(password)}\n`);
    return 0;
  },
};
