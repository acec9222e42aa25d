// The audit log: every change made through the admin API or `apply` — who, what, when, and the
// entity before and after (JSON, secrets redacted by the caller). Written in the same
// transaction as the change, so the log never claims a change that rolled back.
import type { Kysely } from 'kysely';
import { inChunks } from '../db/chunks.js';
import type { Database } from '../db/schema.js';

export interface AuditEntry {
  readonly actor: string;
  /** create, update, replay, rotate-password, … */
  readonly action: string;
  /** dealer, subscriber, customer, vehicle, integration, event, replay-job, admin-token */
  readonly entity: string;
  readonly key: string;
  readonly before?: unknown;
  readonly after?: unknown;
}

export interface AuditRecord extends AuditEntry {
  readonly id: number;
  readonly at: number;
}

const json = (value: unknown) => (value === undefined || value === null ? null : JSON.stringify(value));

export async function recordAudit(db: Kysely<Database>, entries: readonly AuditEntry[], now: number = Date.now()): Promise<void> {
  for (const chunk of inChunks(entries, 1000)) {
    await db
      .insertInto('audit_log')
      .values(
        chunk.map((e) => ({
          at: now,
          actor: e.actor,
          action: e.action,
          entity: e.entity,
          entity_key: e.key,
          before: json(e.before),
          after: json(e.after),
        })),
      )
      .execute();
  }
}

export interface AuditQuery {
  readonly entity?: string;
  readonly key?: string;
  readonly actor?: string;
  /** Entries with an id below this (the previous page's last id). */
  readonly beforeId?: number;
  readonly limit: number;
}

/** Newest first; page with `beforeId` (ids only grow, so pages are stable under new entries). */
export async function listAudit(db: Kysely<Database>, query: AuditQuery): Promise<AuditRecord[]> {
  let q = db.selectFrom('audit_log').selectAll();
  if (query.entity !== undefined) q = q.where('entity', '=', query.entity);
  if (query.key !== undefined) q = q.where('entity_key', '=', query.key);
  if (query.actor !== undefined) q = q.where('actor', '=', query.actor);
  if (query.beforeId !== undefined) q = q.where('id', '<', query.beforeId);
  const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    entity: r.entity,
    key: r.entity_key,
    before: r.before === null ? null : JSON.parse(r.before),
    after: r.after === null ? null : JSON.parse(r.after),
  }));
}
