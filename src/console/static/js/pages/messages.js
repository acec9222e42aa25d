// Messages (#/deliveries/messages?destination=crm&status=FAILED&type=…&dealer=…&source=…): the
// outbox of GET /admin/v1/messages, newest first, a page at a time ("Load more" follows
// nextCursor). The filter lives in the URL, so a view can be reloaded and shared; the event
// detail page links here with source=<requestId>. A FAILED row has its Retry; "Retry all FAILED
// matching…" sends again every dead letter the filter matches, not only the rows shown.
import { admin, query, segment } from '../api.js';
import { MESSAGE_STATUSES, OUTBOUND_TYPES, sourceOf } from '../delivery.js';
import { badge, h, notice, replace } from '../dom.js';
import { count, dateTime } from '../format.js';

const FILTER_KEYS = ['destination', 'status', 'type', 'dealer', 'source'];
const PAGE_SIZE = 50;
export const LAST_MESSAGES_KEY = 'dgw.console.messages';

function filterOf(params) {
  const filter = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  if (filter.status && !MESSAGE_STATUSES.includes(filter.status)) delete filter.status;
  if (filter.type && !OUTBOUND_TYPES.includes(filter.type)) delete filter.type;
  return filter;
}

/** The page size: 50, or what the address says (limit=, 1 to 500). */
function pageSize(params) {
  const limit = Number(params.get('limit'));
  return Number.isInteger(limit) && limit >= 1 && limit <= 500 ? limit : PAGE_SIZE;
}

const detailHref = (id) => `#/deliveries/messages/${encodeURIComponent(id)}`;

function lastErrorCell(message) {
  if (message.status === 'DELIVERED') return h('td', { class: 'small muted nowrap' }, `delivered ${dateTime(message.deliveredAt)}`);
  if (message.status === 'PENDING' && message.nextAttemptAt) {
    return h(
      'td',
      { class: 'small' },
      message.lastError ? h('div', { class: 'error-text' }, message.lastError) : null,
      h('div', { class: 'muted nowrap' }, `next attempt ${dateTime(message.nextAttemptAt)}`),
    );
  }
  return h('td', { class: 'small error-text' }, message.lastError ?? '');
}

export async function render(ctx) {
  const { signal, navigate } = ctx;
  const filter = filterOf(ctx.params);
  const limit = pageSize(ctx.params);
  sessionStorage.setItem(LAST_MESSAGES_KEY, location.hash);

  // ---- the filter form ----
  const destinations = await admin
    .get('/destinations', { signal })
    .then((answer) => answer.items.map((d) => d.name))
    .catch((err) => {
      if (err.name === 'AbortError') throw err;
      return null;
    });
  const select = (name, options) =>
    h(
      'select',
      { name },
      h('option', { value: '' }, 'any'),
      options.map((value) => h('option', { value, selected: filter[name] === value }, value)),
    );
  const input = (name, placeholder, size) =>
    h('input', { type: 'text', name, value: filter[name] ?? '', placeholder, size, autocomplete: 'off', spellcheck: 'false' });
  // A destination named in the address but gone (or a list that could not be read) stays typeable.
  const destination =
    destinations === null
      ? input('destination', 'any', 14)
      : select(
          'destination',
          filter.destination && !destinations.includes(filter.destination) ? [...destinations, filter.destination] : destinations,
        );
  const status = select('status', MESSAGE_STATUSES);
  const type = select('type', OUTBOUND_TYPES);
  const dealer = input('dealer', 'any', 12);
  const source = input('source', 'requestId or prospectUuid', 30);
  const current = () => ({
    destination: destination.value.trim(),
    status: status.value,
    type: type.value,
    dealer: dealer.value.trim(),
    source: source.value.trim(),
  });
  const apply = () => navigate('/deliveries/messages', current());
  for (const el of [destination, status, type]) el.addEventListener('change', apply);
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      id: 'message-filters',
      events: {
        submit: (event) => {
          event.preventDefault();
          apply();
        },
      },
    },
    h('label', { class: 'field' }, 'Destination', destination),
    h('label', { class: 'field' }, 'Status', status),
    h('label', { class: 'field' }, 'Type', type),
    h('label', { class: 'field' }, 'Dealer', dealer),
    h('label', { class: 'field' }, 'Source', source),
    h('button', { type: 'submit', class: 'button' }, 'Apply'),
    h('button', { type: 'button', class: 'button secondary', events: { click: () => navigate('/deliveries/messages') } }, 'Clear'),
  );

  // ---- the table ----
  const tbody = h('tbody');
  const feedback = h('div');
  const shown = h('span', { class: 'muted small', id: 'messages-count' });
  let rows = 0;
  let cursorLeft = false;
  const showCount = () => replace(shown, `${count(rows)} message${rows === 1 ? '' : 's'} shown${cursorLeft ? ', more below' : ''}`);

  const row = (message) => {
    const retry =
      message.status === 'FAILED' ? h('button', { type: 'button', class: 'button small', dataset: { action: 'retry' } }, 'Retry') : null;
    const tr = h(
      'tr',
      {
        class: 'link',
        dataset: { id: message.id, status: message.status, destination: message.destination, type: message.type },
        events: {
          // Links and buttons inside the row do what they say.
          click: (e) => {
            if (!e.target.closest('a, button')) navigate(`/deliveries/messages/${encodeURIComponent(message.id)}`);
          },
        },
      },
      h('td', { class: 'nowrap' }, h('a', { href: detailHref(message.id), class: 'open' }, dateTime(message.createdAt))),
      h('td', {}, badge(message.status)),
      h('td', {}, message.destination),
      h('td', { class: 'mono small' }, message.type),
      h('td', {}, message.dealerUuid ?? h('span', { class: 'muted' }, '—')),
      h('td', { class: 'source' }, sourceOf(message)),
      h('td', {}, String(message.attempts)),
      lastErrorCell(message),
      h('td', {}, retry),
    );
    retry?.addEventListener('click', async () => {
      retry.disabled = true;
      try {
        const again = await admin.post(`/messages/${segment(message.id)}/retry`, {}, { signal });
        tr.replaceWith(row(again));
        replace(feedback, notice('ok', `Message ${message.id} sent again: PENDING, on a fresh schedule.`));
      } catch (err) {
        retry.disabled = false;
        if (err.name !== 'AbortError') replace(feedback, notice('error', `Not retried: ${err.message}`));
      }
    });
    return tr;
  };

  const more = h('button', { type: 'button', class: 'button secondary', id: 'load-more', hidden: true }, 'Load more');
  let cursor;
  const loadPage = async () => {
    const page = await admin.get(`/messages${query({ ...filter, limit, cursor })}`, { signal });
    tbody.append(...page.items.map(row));
    rows += page.items.length;
    cursor = page.nextCursor;
    cursorLeft = cursor !== null;
    more.hidden = !cursorLeft;
    showCount();
    return page;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await loadPage();
    } catch (err) {
      if (err.name !== 'AbortError') replace(feedback, notice('error', `Loading more failed: ${err.message}`));
    } finally {
      more.disabled = false;
    }
  });

  // ---- retry all FAILED matching ----
  const jobArea = h('div');
  const retryAll = h('button', { type: 'button', class: 'button danger', id: 'retry-all' }, 'Retry all FAILED matching…');
  retryAll.hidden = filter.status !== undefined && filter.status !== 'FAILED';
  retryAll.addEventListener('click', () => {
    const { status: _ignored, ...rest } = filter;
    const what = Object.keys(rest).length === 0 ? 'every FAILED message' : 'every FAILED message matching this filter';
    const yes = h('button', { type: 'button', class: 'button danger', id: 'retry-all-confirm' }, 'Send them again');
    const cancel = h('button', { type: 'button', class: 'button secondary' }, 'Cancel');
    cancel.addEventListener('click', () => {
      replace(jobArea);
      retryAll.focus();
    });
    yes.addEventListener('click', async () => {
      yes.disabled = true;
      cancel.disabled = true;
      try {
        const { retried } = await admin.post('/messages/retry', { filter: { ...rest, status: 'FAILED' } }, { signal });
        replace(
          jobArea,
          notice(
            'ok',
            h(
              'span',
              { id: 'retry-all-result', dataset: { retried: String(retried) } },
              `${count(retried)} message${retried === 1 ? '' : 's'} sent again`,
            ),
            retried === 0 ? '.' : ': PENDING now, on a fresh schedule. ',
            h(
              'button',
              { type: 'button', class: 'button secondary small', events: { click: () => ctx.navigate('/deliveries/messages', current()) } },
              'Refresh the list',
            ),
          ),
        );
      } catch (err) {
        if (err.name !== 'AbortError') replace(jobArea, notice('error', `Not retried: ${err.message}`));
      }
    });
    replace(jobArea, notice('warn', `Send again ${what}, not only the rows shown? `, h('span', { class: 'row inline' }, yes, cancel)));
    yes.focus();
  });

  let first;
  try {
    first = await loadPage();
  } catch (err) {
    if (!err.routeMissing) throw err;
    ctx.mount(h('h1', {}, 'Messages'), notice('warn', 'This server has no delivery routes (GET /admin/v1/messages).'));
    return;
  }
  ctx.mount(
    h('a', { class: 'back', href: '#/deliveries' }, '← Deliveries'),
    h('h1', {}, 'Messages'),
    form,
    h('div', { class: 'toolbar' }, shown, h('span', { class: 'spacer' }), retryAll),
    jobArea,
    feedback,
    first.items.length === 0
      ? h('div', { class: 'empty panel', id: 'no-messages' }, 'No message matches this filter.')
      : h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'data', id: 'messages' },
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ['Created', 'Status', 'Destination', 'Type', 'Dealer', 'Source', 'Attempts', 'Last error', ''].map((t) => h('th', {}, t)),
              ),
            ),
            tbody,
          ),
        ),
    h('div', { class: 'more' }, more),
  );
}
