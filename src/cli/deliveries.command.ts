import {
  getMessage,
  listMessages,
  type MessageFilter,
  recoverDestination,
  retryMessage,
  retryMessages,
} from '../admin/messages.service.js';
import { loadConfig } from '../core/config.js';
import type { Command } from './command.js';
import { parseCommandArgs, timeOption, UsageError } from './command.js';
import { openCliDatabase } from './database.js';

const help = `Usage: dealer-gateway deliveries <list|show|retry|recover> [options]

  list                 the newest outbox messages matching the filters
  show MESSAGE_ID      one message: its envelope and every attempt (status, headers, answer)
  retry                send dead letters (FAILED) again: one (--id) or every one matching the
                       filters; each starts its destination's retry schedule afresh
  recover              every dead letter of --destination created since --since, sent again

Filters (list, retry):
  --id MESSAGE_ID      retry: this message only
  --destination NAME   the destination
  --status STATUS      list: PENDING, DELIVERED or FAILED (retry: always FAILED)
  --type TYPE          chat_summary.processed, event.rejected, lead.created or lead.updated
  --dealer UUID        the dealer the outcome belongs to
  --source ID          the event's requestId or the lead's prospectUuid
  --since TIME         created at or after TIME (ISO 8601)
  --until TIME         created before TIME
  --limit N            list at most N messages (default 50)
  --json               list, show: print one JSON document

list and show only read; retry and recover write, audited as the CLI's (actor "cli"). The sender
of the running service (or a worker) picks the messages up at its next poll.`;

const options = {
  id: { type: 'string' },
  destination: { type: 'string' },
  status: { type: 'string' },
  type: { type: 'string' },
  dealer: { type: 'string' },
  source: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const STATUSES = ['PENDING', 'DELIVERED', 'FAILED'] as const;
const ACTOR = 'cli';

/** The admin services take ISO-8601 times. */
function isoTime(name: string, value: string | undefined): string | undefined {
  const ms = timeOption(name, value);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

export const deliveriesCommand: Command = {
  name: 'deliveries',
  summary: 'list, inspect, retry and recover outbox messages',
  help,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, options, help);
    const [action, ...rest] = positionals;
    if (action === undefined) throw new UsageError('expected an action: list, show, retry or recover');
    if (!['list', 'show', 'retry', 'recover'].includes(action)) {
      throw new UsageError(`unknown action "${action}" (expected list, show, retry or recover)`);
    }
    const status = values.status?.toUpperCase();
    if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`--status: expected one of ${STATUSES.join(', ')}`);
    }
    const filter: MessageFilter = {
      ...(values.destination !== undefined && { destination: values.destination }),
      ...(status !== undefined && { status: status as MessageFilter['status'] }),
      ...(values.type !== undefined && { type: values.type }),
      ...(values.dealer !== undefined && { dealer: values.dealer }),
      ...(values.source !== undefined && { source: values.source }),
      ...(values.since !== undefined && { since: isoTime('since', values.since) }),
      ...(values.until !== undefined && { until: isoTime('until', values.until) }),
    };
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new UsageError('--limit: expected a whole number from 1 to 500');
    if (action === 'show' && rest.length !== 1) throw new UsageError('show: expected one MESSAGE_ID');
    if (action === 'recover' && (values.destination === undefined || values.since === undefined)) {
      throw new UsageError('recover: --destination and --since are required');
    }

    const db = await openCliDatabase(loadConfig(), { readOnly: action === 'list' || action === 'show' });
    const out = (line: string) => process.stdout.write(`${line}\n`);
    try {
      if (action === 'show') {
        out(JSON.stringify(await getMessage(db.kysely, rest[0] as string), null, 2));
        return 0;
      }
      if (action === 'list') {
        const page = await listMessages(db.kysely, filter, limit);
        if (values.json) {
          out(JSON.stringify(page.items, null, 2));
          return 0;
        }
        for (const m of page.items) {
          out([m.createdAt, m.id, m.status.padEnd(9), m.destination, m.type, m.sourceId, m.lastError ?? ''].join('  ').trimEnd());
        }
        out(`${page.items.length} message(s)`);
        return 0;
      }
      if (action === 'recover') {
        const { retried } = await recoverDestination(db.kysely, values.destination as string, filter.since as string, ACTOR);
        out(`${retried} dead letter(s) of ${values.destination} will be sent again`);
        return 0;
      }
      if (values.id !== undefined) {
        const message = await retryMessage(db.kysely, values.id, ACTOR);
        out(`${message.id} will be sent again`);
        return 0;
      }
      const { retried } = await retryMessages(db.kysely, filter, ACTOR);
      out(`${retried} dead letter(s) will be sent again`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
