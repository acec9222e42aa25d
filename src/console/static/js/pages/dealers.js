// Dealers: the list of dealers (#/dealers, searchable by the start of the name or the UUID —
// GET /admin/v1/dealers?q=… — a page at a time), and each dealer's view (#/dealers?dealer=<uuid>):
// what the dealership's staff would read — each chat summary with its escalation highlighted,
// the line items and who pays them, the transcript as a conversation and the media as links —
// and the dealer's leads, with the customer's name and the vehicle's VIN. A lead opens under its
// row: the lead as saved (JSON) beside its ADF preview — the document a CRM destination (adf-xml,
// or email) receives, from GET …/leads/{prospectUuid}/adf — or why there is none (ADF_NO_CONTACT:
// the customer has neither email nor phone). Every value comes from a partner or from
// provisioning: text nodes only (the XML too), and a media URL is a link only when it is http(s)
// (links.js).
import { admin, query, segment } from '../api.js';
import { h, notice, replace } from '../dom.js';
import { dateTime } from '../format.js';
import { jsonView } from '../json-view.js';
import { externalLink } from '../links.js';
import { pager } from '../pager.js';

const PAGE_SIZE = 10;
const DEALERS_PAGE_SIZE = 50;
const LAST_LIST_KEY = 'dgw.console.dealers';
const text = (value) => (value === undefined || value === null ? '' : String(value));
const list = (value) => (Array.isArray(value) ? value : []);

function unavailable(err, what) {
  if (err.routeMissing) return notice('warn', `This server cannot show ${what} (the route is missing).`);
  if (err.code === 'DEALER_NOT_FOUND' || err.status === 404) return notice('error', `No dealer with this UUID.`);
  return notice('error', `Loading ${what} failed: ${err.message}`);
}

function chatCard(item) {
  const r = item.record ?? {};
  const escalated = r.escalation_flag === true;
  const items = list(r.line_items);
  const turns = list(r.transcript);
  const media = list(r.media);
  return h(
    'article',
    { class: ['panel', 'chat', escalated ? 'escalated' : null], dataset: { requestId: item.requestId } },
    h(
      'header',
      {},
      h(
        'div',
        {},
        h('div', { class: 'who' }, text(r.customer_name) || 'Unnamed customer'),
        h(
          'div',
          { class: 'meta' },
          [r.vin ? `VIN ${r.vin}` : null, r.chat_code ? `chat ${r.chat_code}` : null, dateTime(r.event_timestamp ?? item.eventTimestamp)]
            .filter(Boolean)
            .join(' · '),
        ),
      ),
      escalated ? h('span', { class: 'badge alert' }, 'Escalated') : null,
    ),
    r.summary ? h('p', { class: 'summary' }, text(r.summary)) : h('p', { class: 'muted' }, 'No summary.'),
    items.length > 0
      ? h(
          'div',
          {},
          h('h3', {}, 'Line items'),
          h(
            'ul',
            { class: 'items' },
            items.map((li) =>
              h(
                'li',
                {},
                h('span', {}, text(li?.description)),
                li?.payable === true
                  ? h('span', { class: 'badge yes' }, 'Customer pays')
                  : h('span', { class: 'badge no' }, li?.payable === false ? 'Not payable' : 'Unknown'),
              ),
            ),
          ),
        )
      : null,
    turns.length > 0
      ? h(
          'div',
          {},
          h('h3', {}, 'Transcript'),
          h(
            'div',
            { class: 'conversation' },
            turns.flatMap((turn) => [
              turn?.customer
                ? h('div', { class: 'bubble customer' }, h('span', { class: 'speaker' }, 'Customer'), text(turn.customer))
                : null,
              turn?.assistant
                ? h('div', { class: 'bubble assistant' }, h('span', { class: 'speaker' }, 'Assistant'), text(turn.assistant))
                : null,
            ]),
          ),
        )
      : null,
    media.length > 0
      ? h(
          'div',
          {},
          h('h3', {}, 'Media'),
          h(
            'ul',
            { class: 'media' },
            media.map((m) => h('li', {}, `${text(m?.type) || 'file'}: `, externalLink(m?.url))),
          ),
        )
      : null,
    h(
      'div',
      { class: 'small muted' },
      'Event ',
      h('a', { class: 'mono', href: `#/events/${encodeURIComponent(item.requestId)}` }, item.requestId),
    ),
  );
}

/** A name (or VIN) first, its id below it, muted; the id alone when the name is unknown. */
function named(name, id, nameClass) {
  if (name === undefined || name === null || name === '') return h('span', { class: ['primary', 'mono'] }, text(id));
  return [
    h('span', { class: ['primary', nameClass] }, text(name)),
    h('span', { class: ['secondary', 'mono', 'small', 'muted'] }, text(id)),
  ];
}

const LEAD_COLUMNS = ['Created', 'Lead id', 'Type', 'Source', 'Status', 'Customer', 'Vehicle (VIN)', 'Last contact', 'Saves', ''];
const loading = () => h('p', { class: 'muted small' }, 'Loading…');

/** Why a lead has no ADF document, or why the preview could not be had. */
function adfUnavailable(err) {
  if (err.code === 'ADF_NO_CONTACT') {
    return notice(
      'warn',
      h('span', { class: 'code-tag' }, err.code),
      ' ',
      err.message,
      h('div', { class: 'small' }, 'No document: this save is a dead letter at every adf-xml or email destination.'),
    );
  }
  if (err.routeMissing) return notice('warn', 'This server cannot show ADF previews (the route is missing).');
  return notice('error', `Loading the ADF preview failed: ${err.message}`);
}

/** The row under a lead's: the lead as saved (JSON) beside the ADF document a CRM would receive. */
function leadDetail(lead, base, signal) {
  const path = `${base}/leads/${segment(lead.prospectUuid)}`;
  const saved = h('div', {}, loading());
  const adf = h('div', {}, loading());
  const failed = (target, what) => (err) => {
    if (err.name !== 'AbortError') replace(target, what(err));
  };
  admin.get(path, { signal }).then(
    (body) => replace(saved, jsonView(body)),
    failed(saved, (err) => notice('error', `Loading the lead failed: ${err.message}`)),
  );
  admin
    .text(`${path}/adf`, { signal })
    .then((xml) => replace(adf, h('pre', { class: 'xml adf-document' }, xml)), failed(adf, adfUnavailable));
  return h(
    'tr',
    { class: 'lead-detail', dataset: { prospect: lead.prospectUuid } },
    h(
      'td',
      { colspan: LEAD_COLUMNS.length },
      h(
        'div',
        { class: 'split' },
        h('section', { class: 'lead-json' }, h('h3', {}, 'Lead, as saved'), saved),
        h(
          'section',
          { class: 'lead-adf' },
          h('h3', {}, 'ADF preview', h('span', { class: 'small muted' }, 'what a CRM destination (adf-xml or email) receives')),
          adf,
        ),
      ),
    ),
  );
}

/** A lead's row; it (or its Details button, from the keyboard) opens the lead under it, and closes it. */
function leadRow(lead, base, signal) {
  const toggle = h(
    'button',
    { type: 'button', class: 'button small secondary', 'aria-expanded': 'false', dataset: { action: 'lead-detail' } },
    'Details',
  );
  let detail = null;
  const row = h(
    'tr',
    { class: 'link', dataset: { prospect: lead.prospectUuid } },
    h('td', { class: 'nowrap' }, dateTime(lead.createdAt)),
    h('td', {}, text(lead.leadId) || '—'),
    h('td', {}, text(lead.leadType)),
    h('td', {}, text(lead.source)),
    h('td', {}, text(lead.status)),
    h('td', { class: 'customer' }, named(lead.customerName, lead.customerUuid)),
    h('td', { class: 'vehicle' }, named(lead.vin, lead.vehicleUuid, 'mono')),
    h('td', { class: 'nowrap' }, dateTime(lead.lastContactAt)),
    h('td', {}, text(lead.saveCount)),
    h('td', { class: 'nowrap' }, toggle),
  );
  row.addEventListener('click', () => {
    if (detail === null) {
      detail = leadDetail(lead, base, signal);
      row.after(detail);
    } else {
      detail.remove();
      detail = null;
    }
    row.classList.toggle('open', detail !== null);
    toggle.setAttribute('aria-expanded', String(detail !== null));
  });
  return row;
}

/** A section that loads pages of `path` and renders each item with `draw` into `container`. */
async function pagedSection(ctx, { path, what, container, draw, wrap }) {
  const section = h('div');
  const { more, load } = pager(ctx, {
    url: (cursor) => `${path}${query({ limit: PAGE_SIZE, cursor })}`,
    container,
    draw,
    onMoreError: (err) => section.append(unavailable(err, what)),
  });
  try {
    const page = await load();
    if (page.items.length === 0) replace(section, h('div', { class: 'empty panel' }, `No ${what} yet.`));
    else replace(section, wrap(container), h('div', { class: 'more' }, more));
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    replace(section, unavailable(err, what));
  }
  return section;
}

function dealerRow(dealer, navigate) {
  const href = `#/dealers${query({ dealer: dealer.uuid })}`;
  return h(
    'tr',
    { class: 'link', dataset: { dealer: dealer.uuid }, events: { click: () => navigate('/dealers', { dealer: dealer.uuid }) } },
    h('td', {}, h('a', { href }, text(dealer.name))),
    h('td', { class: 'mono' }, text(dealer.uuid)),
    h('td', { class: 'nowrap' }, dateTime(dealer.updatedAt)),
  );
}

/** #/dealers: every dealer, or those whose name or UUID starts with `q`, in pages. */
async function dealerList(ctx) {
  const q = ctx.params.get('q')?.trim() ?? '';
  sessionStorage.setItem(LAST_LIST_KEY, location.hash);
  const search = h('input', {
    type: 'search',
    name: 'q',
    value: q,
    placeholder: 'start of the name or the UUID',
    size: 28,
    autocomplete: 'off',
  });
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      events: {
        submit: (e) => {
          e.preventDefault();
          ctx.navigate('/dealers', { q: search.value.trim() });
        },
      },
    },
    h('label', { class: 'field' }, 'Name or UUID', search),
    h('button', { type: 'submit', class: 'button' }, 'Search'),
    q === ''
      ? null
      : h('button', { type: 'button', class: 'button secondary', events: { click: () => ctx.navigate('/dealers') } }, 'Clear'),
  );
  const tbody = h('tbody');
  const moreError = h('div');
  const { more, load } = pager(ctx, {
    url: (cursor) => `/dealers${query({ q, limit: DEALERS_PAGE_SIZE, cursor })}`,
    container: tbody,
    draw: (d) => dealerRow(d, ctx.navigate),
    onMoreError: (err) => replace(moreError, notice('error', `Loading more dealers failed: ${err.message}`)),
  });
  let body;
  try {
    const first = await load();
    body =
      first.items.length === 0
        ? h(
            'div',
            { class: 'empty panel' },
            q === '' ? 'No dealer yet: provision dealers with apply or the admin API.' : `No dealer matches “${q}”.`,
          )
        : [
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'data', id: 'dealers' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Name', 'UUID', 'Updated'].map((t) => h('th', {}, t)),
                  ),
                ),
                tbody,
              ),
            ),
            h('div', { class: 'more' }, more),
            moreError,
          ];
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    body = unavailable(err, 'dealers');
  }
  ctx.mount(
    h('h1', {}, 'Dealers'),
    h('p', { class: 'muted' }, 'Open a dealer to read its chat summaries and leads as its staff would.'),
    form,
    body,
  );
}

async function dealerName(uuid, signal) {
  try {
    return (await admin.get(`/dealers/${segment(uuid)}`, { signal })).name;
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    // The sections below say what is wrong (no such dealer, a missing route).
    return null;
  }
}

export async function render(ctx) {
  const dealerUuid = ctx.params.get('dealer')?.trim() ?? '';
  if (dealerUuid === '') return dealerList(ctx);
  const base = `/dealers/${segment(dealerUuid)}`;
  const back = sessionStorage.getItem(LAST_LIST_KEY);
  const [name, chats, leads] = await Promise.all([
    dealerName(dealerUuid, ctx.signal),
    pagedSection(ctx, {
      path: `${base}/chat-summaries`,
      what: 'chat summaries',
      container: h('div', { class: 'cards', id: 'chat-summaries' }),
      draw: chatCard,
      wrap: (c) => c,
    }),
    pagedSection(ctx, {
      path: `${base}/leads`,
      what: 'leads',
      container: h('tbody'),
      draw: (lead) => leadRow(lead, base, ctx.signal),
      wrap: (tbody) =>
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data', id: 'leads' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                LEAD_COLUMNS.map((t) => h('th', {}, t)),
              ),
            ),
            tbody,
          ),
        ),
    }),
  ]);
  ctx.mount(
    h('a', { class: 'back', href: back?.startsWith('#/dealers') ? back : '#/dealers' }, '← Dealers'),
    h('div', { class: 'title-row' }, h('h1', {}, name ?? 'Dealer'), h('code', { id: 'dealer-uuid' }, dealerUuid)),
    h('h2', {}, 'Chat summaries'),
    chats,
    h('h2', {}, 'Leads'),
    leads,
  );
}
