// The scopes this service knows. Provisioning rejects any other name, so a typo in a grant is
// caught by `apply` instead of silently granting nothing.
export const SCOPES = ['lead.write', 'lead.read', 'spd.events.vehicleservicechat.write'] as const;
export type Scope = (typeof SCOPES)[number];

/** The dealer entry of a MultiDealer grant ("dealers": "*" in the provisioning file). */
export const ANY_DEALER = '*';
