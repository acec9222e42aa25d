// The lead as the service sees it: the contract's request, with optional empty strings made null
// and lastContactDate reduced to the instant it names.

import type { LeadChanges } from './lead.repository.js';

type Opt = string | null | undefined;

/** The request body after schema validation (src/gate/lead.schemas.ts). */
export interface SaveLeadRequest {
  customer: { uuid: string };
  vehicle: { uuid: string; trackingId?: Opt; topic?: Opt; description?: Opt };
  dealerDetails: { name?: Opt; code?: Opt; source: string };
  services: { name?: Opt; code: string; type?: Opt; dueDate?: Opt }[];
  campaign?: { name?: Opt; code?: Opt } | null;
  status: string;
  lastContactDate: string;
  leadId?: Opt;
  webId?: Opt;
  leadType: string;
}

interface LeadService {
  readonly name: string | null;
  readonly code: string;
  readonly type: string | null;
  readonly dueDate: string | null;
}

export interface LeadInput {
  readonly customer: { readonly uuid: string };
  readonly vehicle: {
    readonly uuid: string;
    readonly trackingId: string | null;
    readonly topic: string | null;
    readonly description: string | null;
  };
  readonly dealerDetails: { readonly name: string | null; readonly code: string | null; readonly source: string };
  readonly services: readonly LeadService[];
  readonly campaign: { readonly name: string | null; readonly code: string | null } | null;
  readonly status: string;
  /** `yyyy-MM-dd HH:mm:ssZ`, always UTC. */
  readonly lastContactDate: string;
  readonly leadId: string | null;
  readonly webId: string | null;
  readonly leadType: string;
}

export interface Lead extends LeadInput {
  readonly prospectUuid: string;
  readonly dealerUuid: string;
  readonly saveCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface LeadWarning {
  readonly warningCode: string;
  readonly warningDescription: string;
}

export interface SaveLeadResult {
  readonly isNewCreated: boolean;
  readonly prospectUuid: string;
  readonly warnings: readonly LeadWarning[];
}

/**
 * Everything about a save that needs no database: unknown-field warnings, normalization, the
 * lead's key and the columns to write. Done on the request's thread; the plan is plain data, so
 * it can be handed to the storage thread (src/storage/, src/leads/lead.write.ts) that writes it.
 */
export interface LeadSavePlan {
  readonly dealerUuid: string;
  readonly lead: LeadInput;
  readonly key: string;
  readonly changes: LeadChanges;
  readonly warnings: readonly LeadWarning[];
}
