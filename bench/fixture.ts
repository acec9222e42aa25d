// What the benchmark sends: the provisioning of its scratch database and realistic request
// bodies of about 1 KB (a chat summary with its transcript, a recall lead with its services).
import type { ProvisioningFile } from '../src/provisioning/provisioning.schema.js';

const PASSWORD = 'bench-password-1';
const basic = (username: string) => `Basic ${Buffer.from(`${username}:${PASSWORD}`).toString('base64')}`;

export const GATE_PATH = '/service-pre-diag/third-party-events/vehicle-service-chat/v1';
export const LEADS_PATH = '/leads/v2/dealer/d-1';
/** `bench` sends the canonical shape to the gate and saves leads. */
export const BENCH_AUTH = basic('bench');
/** `chatly` sends its own shape, checked by a JSON Schema and mapped by JSONata (the worker drain). */
export const CHATLY_USERNAME = 'chatly';

const VIN = '1HGCM82633A004352';

/** The chat partner's own event shape (required fields; the rest is checked for type). */
const chatlySchema = {
  type: 'object',
  required: ['dealer', 'conversation', 'vehicle'],
  properties: {
    dealer: { type: 'string' },
    conversation: {
      type: 'object',
      required: ['id', 'summary', 'endedAt'],
      properties: { id: { type: 'string' }, summary: { type: 'string' }, escalated: { type: 'boolean' }, endedAt: { type: 'integer' } },
    },
    customer: { type: 'object', properties: { name: { type: 'string' } } },
    vehicle: { type: 'object', required: ['vin'], properties: { vin: { type: 'string' } } },
    recommendations: { type: 'array', items: { type: 'object', required: ['text'] } },
    messages: { type: 'array', items: { type: 'object', required: ['role', 'text'] } },
    attachments: { type: 'array', items: { type: 'object', required: ['kind', 'href'] } },
  },
};

/** Partner fields → the canonical chat summary. */
const chatlyTransform = `{
  "dealer_uuid": dealer,
  "customer_name": customer.name,
  "vin": vehicle.vin,
  "chat_code": conversation.id,
  "summary": conversation.summary,
  "escalation_flag": conversation.escalated,
  "event_timestamp": conversation.endedAt,
  "line_items": [recommendations.{ "description": text, "payable": customerPays }],
  "transcript": [messages.{ "customer": role = "customer" ? text : null, "assistant": role = "assistant" ? text : null }],
  "media": [attachments.{ "type": kind, "url": href }]
}`;

export const provisioning: ProvisioningFile = {
  dealers: [{ uuid: 'd-1', name: 'Bench Motors' }],
  subscribers: [
    {
      username: 'bench',
      password: PASSWORD,
      grants: [
        { scope: 'lead.write', dealers: ['d-1'] },
        { scope: 'spd.events.vehicleservicechat.write', dealers: '*' },
      ],
    },
    { username: CHATLY_USERNAME, password: PASSWORD, grants: [{ scope: 'spd.events.vehicleservicechat.write', dealers: ['d-1'] }] },
  ],
  customers: [
    {
      dealer: 'd-1',
      uuid: 'c-1',
      firstName: 'Jane',
      lastName: 'Doe',
      vehicles: [{ uuid: 'v-1', vin: VIN, year: 2019, make: 'Honda', model: 'Accord' }],
    },
  ],
  integrations: [
    { subscriber: 'bench', eventType: 'vehicle-service-chat', dealerMap: { 'B-1': 'd-1' } },
    {
      subscriber: CHATLY_USERNAME,
      eventType: 'vehicle-service-chat',
      dealerMap: { 'CH-77': 'd-1' },
      schema: chatlySchema,
      transform: chatlyTransform,
    },
  ],
};

const TRANSCRIPT: readonly [string, string][] = [
  [
    'Hi, I hear a grinding noise from the front wheels whenever I brake, mostly in the morning.',
    'Sorry to hear that. How long has it been going on, and is there any vibration in the pedal?',
  ],
  [
    'About two weeks. A little vibration at highway speed, none in town.',
    'That sounds like worn front pads and possibly scored rotors. When were they last replaced?',
  ],
  [
    'I think at 30,000 miles. The car has 58,000 now.',
    'Then an inspection is due. We can check pads, rotors and brake fluid in about an hour.',
  ],
  [
    'Can you give me a rough quote for pads and rotors?',
    'Front pads and rotors are usually between $420 and $560 installed. Shall I book you in?',
  ],
];

/** A canonical chat summary event of about 1.2 KB for the `bench` partner (dealer B-1 → d-1). */
export function gateBody(i: number): string {
  return JSON.stringify({
    customer_name: 'Jane Doe',
    vin: VIN,
    chat_code: `CH-${100000 + i}`,
    dealer_uuid: 'B-1',
    summary:
      'Grinding noise when braking for two weeks, slight vibration at highway speed; customer wants a quote for front pads and rotors.',
    escalation_flag: false,
    line_items: [
      { description: 'Front brake pads and rotors', payable: true },
      { description: 'Brake fluid check', payable: false },
    ],
    transcript: TRANSCRIPT.map(([customer, assistant]) => ({ customer, assistant })),
    media: [{ type: 'image', url: `https://cdn.example.com/chats/${100000 + i}/front-left-wheel.jpg` }],
  });
}

/** The same conversation in the `chatly` partner's own shape, about 1.3 KB. */
export function chatlyBody(i: number, endedAt: number): string {
  return JSON.stringify({
    dealer: 'CH-77',
    conversation: {
      id: `CL-${i}`,
      summary:
        'Grinding noise when braking for two weeks, slight vibration at highway speed; customer wants a quote for front pads and rotors.',
      escalated: i % 10 === 0,
      endedAt,
    },
    customer: { name: 'Jane Doe' },
    vehicle: { vin: VIN },
    recommendations: [
      { text: 'Front brake pads and rotors', customerPays: true },
      { text: 'Brake fluid check', customerPays: false },
    ],
    messages: TRANSCRIPT.flatMap(([customer, assistant]) => [
      { role: 'customer', text: customer },
      { role: 'assistant', text: assistant },
    ]),
    attachments: [{ kind: 'image', href: `https://cdn.example.com/chats/${i}/front-left-wheel.jpg` }],
  });
}

/** A recall lead of about 1 KB; 1000 distinct lead ids, so most saves update an existing lead. */
export function leadBody(i: number): string {
  return JSON.stringify({
    customer: { uuid: 'c-1' },
    vehicle: {
      uuid: 'v-1',
      trackingId: `2-I509U${String(i % 1000).padStart(3, '0')}`,
      topic: 'WITH_CONTRACT',
      description:
        '2019 Honda Accord EX-L, 58,000 miles, last serviced at this dealership 11 months ago; customer prefers morning appointments and asks for a loaner car.',
    },
    dealerDetails: { name: 'Bench Motors', code: 'BM-1', source: 'MMC' },
    services: [
      { name: 'Maintenance - Service A', code: 'MBVANS-A', type: 'business', dueDate: '2023-06-01' },
      { name: 'Maintenance - Service B', code: 'MBVANS-B', type: 'business', dueDate: '2023-12-01' },
      { name: 'Recall 23V-123: rear camera software update', code: 'R23V123', type: 'recall', dueDate: null },
      { name: 'Brake fluid exchange', code: 'BFX-2', type: 'business', dueDate: '2024-06-01' },
    ],
    campaign: { name: 'MBVANS spring maintenance and recall campaign', code: 'A' },
    status: 'NEW',
    lastContactDate: '2023-06-08 11:00:00Z',
    leadId: `L-${i % 1000}`,
    webId: `2-${39484871796 + (i % 1000)}`,
    leadType: 'RECALL',
  });
}
