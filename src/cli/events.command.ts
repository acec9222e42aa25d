import { loadConfig } from '../core/config.js';
import { type EventFilter, whereEvents } from '../eventlog/event.filter.js';
import { EVENT_STATUSES, type EventStatus, eventFromRow } from '../eventlog/event.model.js';
import { findEvent } from '../eventlog/event.repository.js';
import { countReplayable, replayEvents } from '../pipeline/replay.js';
import type { Command } from './command.js';
import { parseCommandArgs, timeOption, UsageError } from './command.js';
import { openCliDatabase } from './database.js';

const help = `Usage: dealer-gateway events <list|show|replay> [options]

  list                 the newest events matching the filters (default: all statuses)
  show REQUEST_ID      one event: status, attempts, errors, warnings, raw body
  replay               put matching events back in the queue; they are processed again with the
                       integration's current configuration. Without --request-id, only REJECTED
                       and FAILED events are replayed unless --status says otherwise.

Filters (list, replay):
  --request-id ID      (repeatable)
  --status STATUS      RECEIVED, PROCESSED, REJECTED or FAILED (repeatable)
  --subscriber NAME    the partner that sent them (alias: --integration)
  --event-type TYPE    the event type (vehicle-service-chat)
  --dealer UUID        the dealer the pipeline resolved
  --error-code CODE    an error code among the event's errors (e.g. DEALER_NOT_MAPPED)
  --search WORDS       words that must all occur in the raw body (full-text index)
  --since TIME         received at or after TIME (ISO 8601, e.g. 2026-11-01T00:00:00Z)
  --until TIME         received before TIME
  --limit N            list at most N events (default 50)
  --dry-run            replay: only count what would be replayed
  --json               list, show: print one JSON document (list: an array; show: an object)

The database in use is named on stderr first ("database: …"). list and show only read: they
refuse to create a missing SQLite file and never migrate; when the database's schema is behind
this version (run "dealer-gateway migrate" first) or ahead of it, they exit 1 saying so.
replay writes, and applies pending migrations first, as the service does.`;

const options = {
  'request-id': { type: 'string', multiple: true },
  status: { type: 'string', multiple: true },
  subscriber: { type: 'string' },
  integration: { type: 'string' },
  'event-type': { type: 'string' },
  dealer: { type: 'string' },
  'error-code': { type: 'string' },
  search: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  limit: { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

/** An event as printed by show and list --json: times as ISO 8601. */
function printable(e: ReturnType<typeof eventFromRow>) {
  return { ...e, receivedAt: new Date(e.receivedAt).toISOString(), processedAt: e.processedAt && new Date(e.processedAt).toISOString() };
}

const COLUMNS = ['RECEIVED AT', 'REQUEST ID', 'STATUS', 'SUBSCRIBER', 'DEALER', 'CODES'] as const;

/** Rows of cells as aligned columns (two spaces apart, the last one not padded). */
function table(rows: readonly (readonly string[])[]): string[] {
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '));
}

export const eventsCommand: Command = {
  name: 'events',
  summary: 'list, inspect and replay events',
  help,
  async run(args) {
    const { values, positionals } = parseCommandArgs(args, options, help);
    const [action, ...rest] = positionals;
    const statuses = (values.status ?? []).map((s) => s.toUpperCase());
    for (const s of statuses) {
      if (!(EVENT_STATUSES as readonly string[]).includes(s))
        throw new UsageError(`--status: expected one of ${EVENT_STATUSES.join(', ')}`);
    }
    const filter: EventFilter = {
      requestIds: values['request-id'] ?? [],
      statuses: statuses as EventStatus[],
      ...((values.subscriber ?? values.integration) !== undefined && { subscriber: values.subscriber ?? values.integration }),
      ...(values['event-type'] !== undefined && { eventType: values['event-type'] }),
      ...(values.dealer !== undefined && { dealer: values.dealer }),
      ...(values['error-code'] !== undefined && { errorCode: values['error-code'] }),
      ...(values.search !== undefined && { text: values.search }),
      ...(values.since !== undefined && { since: timeOption('since', values.since) }),
      ...(values.until !== undefined && { until: timeOption('until', values.until) }),
    };
    const limit = values.limit === undefined ? 50 : Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit: expected a positive whole number');
    if (action === undefined) throw new UsageError('expected an action: list, show or replay');
    if (action !== 'list' && action !== 'show' && action !== 'replay')
      throw new UsageError(`unknown action "${action}" (expected list, show or replay)`);
    if (action === 'show' && rest.length !== 1) throw new UsageError('show: expected one REQUEST_ID');
    if (values.json && action === 'replay') throw new UsageError('--json: only for list and show');

    const db = await openCliDatabase(loadConfig(), { readOnly: action !== 'replay' });
    const out = (line: string) => process.stdout.write(`${line}\n`);
    try {
      if (action === 'show') {
        const row = await findEvent(db.kysely, rest[0] as string);
        if (!row) {
          (values.json ? process.stderr : process.stdout).write(`no event ${rest[0]}\n`);
          return 1;
        }
        out(JSON.stringify(printable(eventFromRow(row)), null, 2));
        return 0;
      }
      if (action === 'list') {
        // The list shows no bodies: purged ones (retention) are listed like the others.
        const rows = await whereEvents(db.kysely.selectFrom('events').selectAll(), filter, db.kysely)
          .orderBy('received_at', 'desc')
          .limit(limit)
          .execute();
        const events = rows.map((row) => eventFromRow({ ...row, raw_body: null }));
        if (values.json) {
          out(JSON.stringify(events.map(printable), null, 2));
          return 0;
        }
        const cells = events.map((e) => [
          new Date(e.receivedAt).toISOString(),
          e.requestId,
          e.status,
          e.subscriber,
          e.dealerUuid ?? '-',
          [...e.errors.map((x) => x.errorCode), ...e.warnings.map((w) => w.warningCode)].join(','),
        ]);
        for (const line of table([COLUMNS, ...cells])) out(line.trimEnd());
        out(`${rows.length} event(s)`);
        return 0;
      }
      if (values['dry-run']) {
        out(`${await countReplayable(db.kysely, filter)} event(s) would be replayed`);
        return 0;
      }
      const report = await replayEvents(db.kysely, filter);
      out(`${report.replayed} event(s) replayed; the worker will process them shortly`);
      if (report.skippedPurged > 0) out(`${report.skippedPurged} event(s) skipped: their body was purged by retention`);
      return 0;
    } finally {
      await db.close();
    }
  },
};
