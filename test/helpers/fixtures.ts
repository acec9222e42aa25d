// The provisioning most HTTP tests start from, and a valid lead body to vary.

export const PASSWORD = 'correct-horse-1';

export const baseFixture = {
  dealers: [
    { uuid: 'd-1', name: 'Test Imports LLC' },
    { uuid: 'd-2', name: 'Harbor Motors' },
  ],
  subscribers: [
    { username: 'writer', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-1'] }] },
    { username: 'reader', password: PASSWORD, grants: [{ scope: 'lead.read', dealers: ['d-1'] }] },
    { username: 'multi', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: '*' }] },
    { username: 'other', password: PASSWORD, grants: [{ scope: 'lead.write', dealers: ['d-2'] }] },
    { username: 'off', password: PASSWORD, disabled: true, grants: [{ scope: 'lead.write', dealers: '*' }] },
    { username: 'events-only', password: PASSWORD, grants: [{ scope: 'spd.events.vehicleservicechat.write', dealers: '*' }] },
  ],
  customers: [
    {
      dealer: 'd-1',
      uuid: 'c-1',
      firstName: 'Jane',
      lastName: 'Doe',
      vehicles: [{ uuid: 'v-1', vin: '1HGCM82633A004352', year: 2019, make: 'Honda', model: 'Accord' }],
    },
    { dealer: 'd-1', uuid: 'c-3', firstName: 'Ann', vehicles: [{ uuid: 'v-3' }] },
    { dealer: 'd-2', uuid: 'c-2', firstName: 'Sam', vehicles: [{ uuid: 'v-2' }] },
  ],
};

export function leadBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customer: { uuid: 'c-1' },
    vehicle: {
      uuid: 'v-1',
      trackingId: '2-I509U2C',
      topic: 'WITH_CONTRACT',
      description: 'Maintenance management with accepted user agreements',
    },
    dealerDetails: { name: 'Test Imports LLC', code: 'TI-1', source: 'MMC' },
    services: [{ name: 'Maintenance - Service A', code: 'MBVANS-A', type: 'business', dueDate: '2023-06-01' }],
    campaign: { name: 'MBVANS', code: 'A' },
    status: 'NEW',
    lastContactDate: '2023-06-08 11:00:00Z',
    leadId: 'US000000111199002',
    webId: '2-39484871796',
    leadType: 'RECALL',
    ...overrides,
  };
}
