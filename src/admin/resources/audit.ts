// The audit log: /admin/v1/audit, every provisioning change (by the admin API or by `apply`),
// newest first. Read-only: entries are written by the changes themselves.
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import { type AuditRecord, listAudit } from '../../audit/audit.repository.js';
import type { Database } from '../../db/schema.js';
import { decodeCursor } from '../cursor.js';
import { type Page, type PageRequest, pageOf } from '../page.js';
import { iso } from './columns.js';
import { lists } from './route.js';
import { integer, text, timestamp } from './schemas.js';

interface AuditItem extends Omit<AuditRecord, 'at'> {
  readonly at: string;
}

interface AuditFilter {
  entity?: string;
  key?: string;
  actor?: string;
}

const auditEntrySchema = {
  type: 'object',
  properties: {
    id: integer,
    at: timestamp,
    actor: text,
    action: text,
    entity: text,
    key: text,
    before: { description: 'The entity before the change (null on create); secrets are never included' },
    after: { description: 'The entity after the change' },
  },
} as const;

const auditFilters = {
  entity: {
    type: 'string',
    minLength: 1,
    maxLength: 64,
    description: 'dealer, subscriber, customer, vehicle, integration, event, replay-job, …',
  },
  key: { type: 'string', minLength: 1, maxLength: 300, description: 'The entity key (integrations: subscriber/eventType)' },
  actor: { type: 'string', minLength: 1, maxLength: 64, description: 'admin-api or apply' },
};

/** Newest first; the cursor is the last entry's id (ids only grow: new entries never shift pages). */
async function listAuditEntries(db: Kysely<Database>, { query }: { query: PageRequest & AuditFilter }): Promise<Page<AuditItem>> {
  const { entity, key, actor, limit, cursor } = query;
  const beforeId = cursor === undefined ? undefined : (decodeCursor(cursor, 'n')[0] as number);
  const records = await listAudit(db, { entity, key, actor, beforeId, limit: limit + 1 });
  return pageOf(
    records,
    limit,
    (r) => ({ ...r, at: iso(r.at) }),
    (r) => [r.id],
  );
}

export default function auditRoutes(app: FastifyInstance): void {
  app.get(
    '/audit',
    lists(listAuditEntries, auditEntrySchema, {
      summary: 'The audit log, newest first (filters: entity, key, actor)',
      filters: auditFilters,
    }),
  );
}
