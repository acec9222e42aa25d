// Writes an event's outcome. Each write is one transaction guarded by the worker's lease
// (locked_by): a worker whose lease expired and was taken over writes nothing.
// The chat summary is keyed by request_id, so however often an event is processed — twice by
// racing workers, or again by a replay — there is exactly one summary per event.
import type { Kysely, Transaction } from 'kysely';
import type { Database, EventRow } from '../db/schema.js';
import type { Outcome } from './evaluate.js';

export class LeaseLostError extends Error {
  override name = 'LeaseLostError';
  constructor(requestId: string) {
    super(`lease on event ${requestId} was lost before its outcome was written`);
  }
}

async function finishEvent(
  trx: Transaction<Database>,
  event: EventRow,
  workerId: string,
  changes: Pick<EventRow, 'status' | 'dealer_uuid' | 'errors' | 'warnings' | 'processed_at'> & { last_error?: string | null },
  now: number,
): Promise<void> {
  const result = await trx
    .updateTable('events')
    .set({ ...changes, locked_by: null, locked_until: null, updated_at: now })
    .where('request_id', '=', event.request_id)
    .where('locked_by', '=', workerId)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new LeaseLostError(event.request_id);
}

export async function storeOutcome(db: Kysely<Database>, event: EventRow, workerId: string, outcome: Outcome, now: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (outcome.kind === 'rejected') {
      await finishEvent(
        trx,
        event,
        workerId,
        {
          status: 'REJECTED',
          dealer_uuid: outcome.dealerUuid,
          errors: JSON.stringify(outcome.errors),
          warnings: JSON.stringify(outcome.warnings),
          processed_at: now,
          last_error: null,
        },
        now,
      );
      // A replay that now rejects an event withdraws the summary it produced before.
      await trx.deleteFrom('chat_summaries').where('request_id', '=', event.request_id).execute();
      return;
    }
    await finishEvent(
      trx,
      event,
      workerId,
      {
        status: 'PROCESSED',
        dealer_uuid: outcome.dealerUuid,
        errors: '[]',
        warnings: JSON.stringify(outcome.warnings),
        processed_at: now,
        last_error: null,
      },
      now,
    );
    const record = outcome.record;
    const summary = {
      dealer_uuid: outcome.dealerUuid,
      vehicle_uuid: outcome.vehicleUuid,
      customer_uuid: outcome.customerUuid,
      vin: typeof record.vin === 'string' ? record.vin : null,
      chat_code: typeof record.chat_code === 'string' ? record.chat_code : null,
      event_timestamp: record.event_timestamp,
      escalation_flag: typeof record.escalation_flag === 'boolean' ? Number(record.escalation_flag) : null,
      record: JSON.stringify(record),
      updated_at: now,
    };
    await trx
      .insertInto('chat_summaries')
      .values({ request_id: event.request_id, created_at: now, ...summary })
      .onConflict((oc) => oc.column('request_id').doUpdateSet(summary))
      .execute();
  });
}
