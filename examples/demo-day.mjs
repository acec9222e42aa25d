#!/usr/bin/env node
// A day of partner traffic for a running dealer-gateway, sent through its public API, so the
// operator console has something to show: 48 chat summaries from `northwind-chat` (their
// event_timestamp spread over the last 24 hours, a few of them REJECTED, a few with warnings) and
// leads from `oem-recalls` (a few saved twice, two refused). The partners, dealers, customers and
// vehicles are those of examples/demo-day.json, which must be applied first:
//
//   npx dealer-gateway apply examples/demo-day.json
//   node examples/demo-day.mjs [base URL]        (default http://127.0.0.1:8080)
//
// Each run sends 48 new events (new Idempotency-Keys); its leads are the same leads, saved again.
// The gate stamps every event with its receipt time, so the console's per-hour charts show this
// run in the current hour; the chat summaries carry the spread-out event_timestamp.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const base = (process.argv[2] ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
const GATE = `${base}/service-pre-diag/third-party-events/vehicle-service-chat/v1`;
const HOUR = 3_600_000;

const file = JSON.parse(readFileSync(new URL('./demo-day.json', import.meta.url), 'utf8'));
const subscriber = (username) => file.subscribers.find((s) => s.username === username);
const chatPartner = subscriber('northwind-chat');
const leadPartner = subscriber('oem-recalls');
const integration = file.integrations.find((i) => i.subscriber === chatPartner.username);
/** Our dealer UUID → the partner's store id, from the integration's dealer map. */
const storeOf = Object.fromEntries(Object.entries(integration.dealerMap).map(([store, dealer]) => [dealer, store]));
const vehicles = file.customers.flatMap((customer) => customer.vehicles.map((vehicle) => ({ customer, vehicle })));

const out = (line = '') => process.stdout.write(`${line}\n`);
const basic = (s) => `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}`;

async function call(method, url, who, body, headers = {}) {
  let res;
  try {
    res = await fetch(url, {
      method,
      headers: { authorization: basic(who), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`no answer from ${base} (${err.cause?.code ?? err.message}): is the service running there?`);
  }
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // Not JSON: kept as text for the message below.
  }
  return { status: res.status, json, text };
}

/**
 * Waits until the service knows the partner: `apply` from another process is seen within one
 * provisioning poll (500 ms by default). A 404 for an id that does not exist means signed in.
 */
async function waitForPartner(who, url) {
  for (let attempt = 0; attempt < 8; attempt++) {
    const { status, text } = await call('GET', url, who);
    if (status === 404) return;
    if (status !== 401) throw new Error(`${who.username}: unexpected ${status} ${text}`);
    await sleep(400);
  }
  throw new Error(
    `${who.username} cannot sign in (401): apply examples/demo-day.json first (npx dealer-gateway apply examples/demo-day.json)`,
  );
}

const TOPICS = [
  {
    summary: 'Grinding noise when braking; wants a quote for pads and rotors.',
    items: [
      ['Front brake pads', true],
      ['Rotor resurfacing', true],
    ],
    chat: ['My brakes grind when I stop.', 'That sounds like worn pads. Shall I book an inspection?'],
  },
  {
    summary: 'Check engine light since yesterday; the car runs rough at idle.',
    items: [['Diagnostic scan', true]],
    chat: ['The engine light is on and the car shakes at red lights.', 'Please avoid long trips; I am booking a diagnostic.'],
    escalate: true,
  },
  {
    summary: 'Due for the 30,000 mile service; asked what it includes.',
    items: [
      ['30,000 mile service', true],
      ['Cabin air filter', true],
    ],
    chat: ['What does the 30k service include?', 'Oil, filters, a tyre rotation and a full inspection.'],
  },
  {
    summary: 'Tyre pressure warning after a cold night; booked a check.',
    items: [['TPMS check', false]],
    chat: ['The tyre light came on this morning.', 'Cold nights lower the pressure; we will check it for free.'],
  },
  {
    summary: 'Received a recall notice for the airbag inflator; wants the earliest slot.',
    items: [['Airbag inflator recall', false]],
    chat: ['I got a recall letter about the airbag.', 'The repair is free; the earliest slot is tomorrow at 8.'],
    escalate: true,
  },
  {
    summary: 'Battery died twice this week; needs a test and probably a new battery.',
    items: [
      ['Battery test', false],
      ['Battery replacement', true],
    ],
    chat: ['My car would not start twice this week.', 'Let us test the battery and the alternator.'],
  },
  {
    summary: 'Air conditioning blows warm air; asked for the price of a recharge.',
    items: [['A/C recharge', true]],
    chat: ['The A/C only blows warm air.', 'A recharge is usually enough; we will check for leaks too.'],
  },
  {
    summary: 'Windshield chip from the highway; asked whether insurance covers it.',
    items: [['Windshield chip repair', true]],
    chat: ['A stone chipped my windshield.', 'Most insurers cover chip repairs; send us a photo.'],
    photo: 'https://cdn.example.com/demo/windshield-chip.jpg',
  },
];

/** Event i of the day: what most partners send, and now and then a mistake. */
function chatSummary(i, now) {
  const { customer, vehicle } = vehicles[i % vehicles.length];
  const topic = TOPICS[i % TOPICS.length];
  const body = {
    dealer_uuid: storeOf[customer.dealer],
    chat_code: `NW-${10_000 + i}`,
    customer_name: `${customer.firstName} ${customer.lastName}`,
    vin: vehicle.vin,
    summary: topic.summary,
    escalation_flag: topic.escalate === true,
    // Half-hourly over the last 24 hours, newest first.
    event_timestamp: now - i * HOUR * 0.5 - ((i * 7) % 29) * 60_000,
    line_items: topic.items.map(([description, payable]) => ({ description, payable })),
    transcript: [{ customer: topic.chat[0], assistant: topic.chat[1] }],
    ...(topic.photo ? { media: [{ type: 'image', url: topic.photo }] } : {}),
  };
  // REJECTED: a store the integration does not map yet (fix it in the console, then replay) …
  if (i % 12 === 5) body.dealer_uuid = 'NW-AIRPORT';
  // … a body without the summary the integration's schema requires …
  if (i === 10) delete body.summary;
  // … a timestamp in seconds, not milliseconds …
  if (i === 22) body.event_timestamp = Math.floor(body.event_timestamp / 1000);
  // … and fields of the wrong kind.
  if (i === 34) body.media = [{ type: 'image', url: 'ftp://files.example.com/photo.jpg' }];
  if (i === 46) body.escalation_flag = 'yes';
  // PROCESSED with warnings: a VIN no vehicle of the dealer has, a wrong check digit, an extra field.
  if (i === 8) body.vin = '5YJ3E1EA2KF317000';
  if (i === 20) body.vin = '1HGCM82603A004352';
  if (i === 32) body.sentiment = 'frustrated';
  return body;
}

const when = (ms) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;

function lead(i, now, { customer, vehicle }, leadType) {
  return {
    customer: { uuid: customer.uuid },
    vehicle: { uuid: vehicle.uuid, trackingId: `TRK-${vehicle.uuid}`, topic: leadType === 'RECALL' ? 'WITH_CONTRACT' : 'SERVICE' },
    dealerDetails: {
      name: file.dealers.find((d) => d.uuid === customer.dealer)?.name ?? null,
      code: customer.dealer.toUpperCase(),
      source: 'MMC',
    },
    services:
      leadType === 'RECALL'
        ? [{ name: 'Airbag inflator recall', code: 'RC-24V-101', type: 'recall', dueDate: '2026-12-31' }]
        : [{ name: 'Maintenance - Service A', code: 'MAINT-A', type: 'business', dueDate: '' }],
    campaign: leadType === 'RECALL' ? { name: 'Airbag inflator', code: '24V-101' } : null,
    status: 'NEW',
    lastContactDate: when(now - i * 2 * HOUR),
    ...(leadType === 'RECALL' ? { leadId: `DEMO-RC-${vehicle.uuid}` } : {}),
    leadType,
  };
}

async function sendLeads(now) {
  const tally = { created: 0, updated: 0, refused: [] };
  const save = async (dealer, body) => {
    const { status, json, text } = await call('POST', `${base}/leads/v2/dealer/${dealer}`, leadPartner, body);
    if (status === 200) tally[json.isNewCreated ? 'created' : 'updated']++;
    else tally.refused.push(`${status} ${json?.errorCode ?? text}`);
  };
  for (const [i, v] of vehicles.entries()) await save(v.customer.dealer, lead(i, now, v, 'RECALL'));
  for (const [i, v] of vehicles.slice(0, 4).entries()) await save(v.customer.dealer, lead(i, now, v, 'SERVICE_DEMAND'));
  // The same recall leads again, contacted since: updated, not duplicated.
  for (const v of vehicles.slice(0, 2)) await save(v.customer.dealer, { ...lead(0, now, v, 'RECALL'), lastContactDate: when(now) });
  // Refused: a customer the dealer does not have, and a date that does not exist.
  const [first, second] = vehicles;
  await save(first.customer.dealer, { ...lead(0, now, first, 'RECALL'), customer: { uuid: 'c-99' }, leadId: 'DEMO-UNKNOWN' });
  await save(second.customer.dealer, {
    ...lead(0, now, second, 'SERVICE_DEMAND'),
    services: [{ name: 'Maintenance - Service B', code: 'MAINT-B', type: 'business', dueDate: '2026-02-30' }],
  });
  return tally;
}

async function main() {
  await waitForPartner(chatPartner, `${GATE}/00000000-0000-7000-8000-000000000000`);
  await waitForPartner(leadPartner, `${base}/leads/v2/dealer/d-1/lead/00000000-0000-4000-8000-000000000000`);
  const now = Date.now();
  const run = now.toString(36);
  const ids = [];
  for (let i = 0; i < 48; i++) {
    const { status, json, text } = await call('POST', GATE, chatPartner, chatSummary(i, now), {
      'idempotency-key': `demo-day-${run}-${i}`,
    });
    if (status !== 200) throw new Error(`event ${i}: ${status} ${text}`);
    ids.push(json.requestId);
  }
  out(`sent 48 chat summaries as ${chatPartner.username} (Idempotency-Keys demo-day-${run}-0 … 47)`);

  const leads = await sendLeads(now);
  out(
    `leads as ${leadPartner.username}: ${leads.created} created, ${leads.updated} updated, ${leads.refused.length} refused (${leads.refused.join(', ')})`,
  );

  // The worker takes them up moments after the gate answers.
  const statuses = new Map();
  const errors = new Map();
  const warnings = new Map();
  const count = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  const deadline = Date.now() + 60_000;
  for (const id of ids) {
    for (;;) {
      const { json } = await call('GET', `${GATE}/${id}`, chatPartner);
      if (json?.status !== 'RECEIVED' || Date.now() > deadline) {
        count(statuses, json?.status ?? 'unknown');
        for (const e of json?.errors ?? []) count(errors, e.errorCode);
        for (const w of json?.warnings ?? []) count(warnings, w.warningCode);
        break;
      }
      await sleep(100);
    }
  }
  const list = (map) =>
    [...map.entries()]
      .sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
      .map(([key, n]) => `${key} ${n}`)
      .join(', ');
  out(`chat summaries: ${list(statuses)}`);
  out(`  rejected for: ${list(errors)}`);
  out(`  warnings: ${list(warnings)}`);
  out(`open ${base}/console and sign in with the admin token`);
}

main().catch((err) => {
  process.stderr.write(`demo-day: ${err.message}\n`);
  process.exit(1);
});
