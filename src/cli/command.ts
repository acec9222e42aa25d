import { parseArgs } from 'node:util';

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly help: string;
  run(args: string[]): Promise<number>;
}

/**
 * A mistake in the command line (unknown option, missing argument, …): main.ts prints the
 * message on one line, then the command's usage, and exits 2. Other errors exit 1.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** node:util parseArgs, with its errors turned into a one-line usage error. */
export function parseCommandArgs<O extends ParseArgsOptions>(args: string[], options: O, _help?: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const unknown = /^Unknown option '([^']+)'/.exec(message);
    throw new UsageError(unknown ? `unknown option ${unknown[1]}` : (message.split('\n')[0] ?? message));
  }
}

/** An option holding a date-time (`--since`, `--until`): epoch ms, or a UsageError naming it. */
export function timeOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`--${name}: not a date-time: ${value}`);
  return ms;
}
