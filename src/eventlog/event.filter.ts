// Which events an operator means: one filter for the admin list, the CLI, and replays (so
// "replay everything matching" replays exactly what the list showed, not a page of it).
import { type ExpressionBuilder, type Kysely, sql } from 'kysely';
import { dialectOfKysely } from '../db/dialect.js';
import type { EventStatus } from './event.model.js';

export interface EventFilter {
  readonly requestIds?: readonly string[];
  readonly statuses?: readonly EventStatus[];
  readonly subscriber?: string;
  readonly eventType?: string;
  /** The dealer the pipeline resolved (events not yet processed have none). */
  readonly dealer?: string;
  /** An error code among the event's errors (REJECTED, FAILED). */
  readonly errorCode?: string;
  /** Words that must all occur in the raw body (full-text index, not a scan). */
  readonly text?: string;
  /** received_at >= since (epoch ms) */
  readonly since?: number;
  /** received_at < until (epoch ms) */
  readonly until?: number;
}

/**
 * The SQLite FTS5 query for `text`: every word must occur. The index keeps no positions
 * (migration 0004, detail=none), so a word the tokenizer splits (`ACME-99`) becomes its tokens,
 * each required; each token is quoted, so nothing in `text` can be read as query syntax.
 * PostgreSQL parses the text with plainto_tsquery, which has no syntax to inject.
 */
export function ftsQuery(text: string): string | undefined {
  const tokens = ftsTokens(text);
  if (tokens.length === 0) return undefined;
  return tokens.map((t) => `"${t}"`).join(' ');
}

/** The words of `text` as the index's tokenizer (unicode61) sees them: runs of letters and digits. */
function ftsTokens(text: string): string[] {
  return text.split(/[^\p{L}\p{N}]+/u).filter((t) => t.length > 0);
}

// biome-ignore lint/suspicious/noExplicitAny: usable inside any query over the events table
function bodyMatches(eb: ExpressionBuilder<any, any>, db: Kysely<any>, text: string) {
  if (dialectOfKysely(db) === 'postgres') {
    // Indexed vectors, and the bodies still queued (migration 0006) tokenized on the spot.
    return eb(
      'events.request_id',
      'in',
      sql`(SELECT s.request_id FROM event_search s WHERE s.doc @@ plainto_tsquery('simple', ${text})
        UNION ALL
        SELECT b.request_id FROM event_bodies b JOIN event_search_backlog q ON q.request_id = b.request_id
        WHERE to_tsvector('simple', b.raw_body) @@ plainto_tsquery('simple', ${text}))`,
    );
  }
  // Bodies still in the backlog (stored, not yet tokenized: migration 0006) are read directly,
  // each token as a case-insensitive substring; the backlog is short by design (search-index.ts).
  const tokens = ftsTokens(text);
  const inBacklog = sql.join(
    tokens.map((t) => sql`b.raw_body LIKE ${`%${likeLiteral(t)}%`} ESCAPE '\\'`),
    sql` AND `,
  );
  return eb(
    'events.request_id',
    'in',
    sql`(SELECT b.request_id FROM event_bodies b WHERE b.rowid IN (SELECT rowid FROM event_search WHERE event_search MATCH ${ftsQuery(text)})
      UNION ALL
      SELECT b.request_id FROM event_bodies b JOIN event_search_backlog q ON q.body_rowid = b.rowid WHERE ${inBacklog})`,
  );
}

/** LIKE pattern of a literal (its % and _ escaped with \). */
const likeLiteral = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Narrows `qb` (a query over `events`, built on `db`) to the events matching `filter`. */
// biome-ignore lint/suspicious/noExplicitAny: applies to any query over the events table
export function whereEvents<Q extends { where: (...args: any[]) => any }>(qb: Q, filter: EventFilter, db?: Kysely<any>): Q {
  let q = qb;
  if (filter.requestIds && filter.requestIds.length > 0) q = q.where('events.request_id', 'in', filter.requestIds);
  if (filter.statuses && filter.statuses.length > 0) q = q.where('events.status', 'in', filter.statuses);
  if (filter.subscriber !== undefined) q = q.where('events.username', '=', filter.subscriber);
  if (filter.eventType !== undefined) q = q.where('events.event_type', '=', filter.eventType);
  if (filter.dealer !== undefined) q = q.where('events.dealer_uuid', '=', filter.dealer);
  if (filter.errorCode !== undefined) {
    // errors is a JSON array of {errorCode, …}; codes come from a closed list, matched literally.
    q = q.where(sql`events.errors LIKE ${`%"errorCode":"${likeLiteral(filter.errorCode)}"%`} ESCAPE '\\'`);
  }
  if (filter.since !== undefined) q = q.where('events.received_at', '>=', filter.since);
  if (filter.until !== undefined) q = q.where('events.received_at', '<', filter.until);
  if (filter.text !== undefined && filter.text.trim() !== '') {
    const text = filter.text;
    if (ftsQuery(text) === undefined) {
      // Only punctuation: no word to look for, so nothing matches (as on PostgreSQL).
      q = q.where(sql<boolean>`1 = 0`);
    } else {
      if (!db) throw new Error('a text filter needs the database it runs on');
      // biome-ignore lint/suspicious/noExplicitAny: see above
      q = q.where((eb: ExpressionBuilder<any, any>) => bodyMatches(eb, db, text));
    }
  }
  return q;
}
