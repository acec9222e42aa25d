// Dealer view: what the dealership's staff would read — each chat summary with its escalation
// highlighted, the line items and who pays them, the transcript as a conversation and the media
// as links — and the dealer's leads. Every value comes from a partner: text nodes only, and a
// media URL is a link only when it is http(s) (links.js).
import { admin, query, segment } from '../api.js';
import { h, notice, replace } from '../dom.js';
import { dateTime } from '../format.js';
import { externalLink } from '../links.js';

const PAGE_SIZE = 10;
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

function leadRow(lead) {
  return h(
    'tr',
    {},
    h('td', { class: 'nowrap' }, dateTime(lead.createdAt)),
    h('td', {}, text(lead.leadId) || '—'),
    h('td', {}, text(lead.leadType)),
    h('td', {}, text(lead.source)),
    h('td', {}, text(lead.status)),
    h('td', { class: 'mono' }, text(lead.customerUuid)),
    h('td', { class: 'mono' }, text(lead.vehicleUuid)),
    h('td', { class: 'nowrap' }, dateTime(lead.lastContactAt)),
    h('td', {}, text(lead.saveCount)),
  );
}

/** A section that loads pages of `path` and renders each item with `draw` into `container`. */
async function pagedSection(ctx, { path, what, container, draw, wrap }) {
  const more = h('button', { type: 'button', class: 'button secondary', hidden: true }, 'Load more');
  const section = h('div');
  let cursor;
  const load = async () => {
    const page = await admin.get(`${path}${query({ limit: PAGE_SIZE, cursor })}`, { signal: ctx.signal });
    container.append(...page.items.map(draw));
    cursor = page.nextCursor;
    more.hidden = cursor === null;
    return page;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load();
    } catch (err) {
      if (err.name !== 'AbortError') section.append(unavailable(err, what));
    } finally {
      more.disabled = false;
    }
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

async function dealerOptions(signal) {
  try {
    return (await admin.get(`/dealers${query({ limit: 200 })}`, { signal })).items;
  } catch (err) {
    if (err.routeMissing) return [];
    throw err;
  }
}

export async function render(ctx) {
  const dealerUuid = ctx.params.get('dealer')?.trim() ?? '';
  const dealers = await dealerOptions(ctx.signal);
  const input = h('input', {
    type: 'text',
    name: 'dealer',
    list: 'dealer-list',
    value: dealerUuid,
    placeholder: 'dealer UUID',
    required: true,
  });
  const form = h(
    'form',
    {
      class: 'filters',
      events: {
        submit: (e) => {
          e.preventDefault();
          ctx.navigate('/dealers', { dealer: input.value.trim() });
        },
      },
    },
    h('label', { class: 'field' }, 'Dealer', input),
    h(
      'datalist',
      { id: 'dealer-list' },
      dealers.map((d) => h('option', { value: d.uuid }, text(d.name))),
    ),
    h('button', { type: 'submit', class: 'button' }, 'Open'),
  );
  if (dealerUuid === '') {
    ctx.mount(h('h1', {}, 'Dealer view'), form, h('p', { class: 'muted' }, 'Choose a dealer to see its chat summaries and leads.'));
    return;
  }
  const base = `/dealers/${segment(dealerUuid)}`;
  const name = dealers.find((d) => d.uuid === dealerUuid)?.name;
  const [chats, leads] = await Promise.all([
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
      draw: leadRow,
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
                ['Created', 'Lead id', 'Type', 'Source', 'Status', 'Customer', 'Vehicle', 'Last contact', 'Saves'].map((t) =>
                  h('th', {}, t),
                ),
              ),
            ),
            tbody,
          ),
        ),
    }),
  ]);
  ctx.mount(
    h('h1', {}, 'Dealer view'),
    form,
    h('h2', {}, name ? `${name} (${dealerUuid}) · chat summaries` : `${dealerUuid} · chat summaries`),
    chats,
    h('h2', {}, 'Leads'),
    leads,
  );
}
