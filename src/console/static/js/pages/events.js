// Events: the filterable list of GET /admin/v1/events, newest first. The filter lives in the URL
// (#/events?status=REJECTED&q=brakes), so a view can be reloaded, bookmarked and shared. "Load
// more" follows nextCursor; the live tail asks for the first page every 2 s and adds what is
// new (and refreshes the status of rows already shown); "Replay all matching" replays the whole
// filter, not only the rows on screen, as a background job.
import { admin, query } from '../api.js';
import { ERROR_CODES, STATUSES } from '../codes.js';
import { badge, h, notice, replace } from '../dom.js';
import { count, dateTime } from '../format.js';
import { replayProgress } from '../replay-progress.js';

const FILTER_KEYS = ['status', 'subscriber', 'dealer', 'errorCode', 'q'];
const PAGE_SIZE = 50;
const TAIL_MS = 2000;
export const LAST_LIST_KEY = 'dgw.console.events';

function filterOf(params) {
  const filter = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key)?.trim();
    if (value) filter[key] = value;
  }
  return filter;
}

function row(item, navigate) {
  return h(
    'tr',
    {
      class: 'link',
      dataset: { requestId: item.requestId, status: item.status },
      events: { click: () => navigate(`/events/${encodeURIComponent(item.requestId)}`) },
    },
    h('td', { class: 'nowrap' }, dateTime(item.receivedAt)),
    h('td', {}, badge(item.status)),
    h('td', {}, item.subscriber),
    h('td', {}, item.dealerUuid ?? h('span', { class: 'muted' }, '—')),
    h(
      'td',
      {},
      item.errorCodes.map((code) => h('span', { class: 'code-tag' }, code)),
      item.warningCodes.length > 0 ? h('span', { class: 'small muted' }, `${item.warningCodes.length} warning(s)`) : null,
    ),
    h('td', {}, String(item.attempts)),
    h('td', {}, h('a', { class: 'mono', href: `#/events/${encodeURIComponent(item.requestId)}` }, item.requestId)),
  );
}

export async function render(ctx) {
  const { signal, navigate } = ctx;
  const filter = filterOf(ctx.params);
  const statuses = new Set((filter.status ?? '').split(',').filter((s) => STATUSES.includes(s)));
  const state = { rows: new Map(), cursor: null, newest: '', tail: ctx.params.get('tail') === '1' };
  sessionStorage.setItem(LAST_LIST_KEY, location.hash);

  // ---- the filter form ----
  const input = (name, placeholder, size) =>
    h('input', { type: name === 'q' ? 'search' : 'text', name, value: filter[name] ?? '', placeholder, size, autocomplete: 'off' });
  const subscriber = input('subscriber', 'any', 14);
  const dealer = input('dealer', 'any', 10);
  const search = input('q', 'words in the raw body', 24);
  const errorCode = h(
    'select',
    { name: 'errorCode' },
    h('option', { value: '' }, 'any'),
    ERROR_CODES.map((code) => h('option', { value: code, selected: filter.errorCode === code }, code)),
  );
  const apply = (changes = {}) =>
    navigate('/events', {
      status: [...statuses].join(','),
      subscriber: subscriber.value.trim(),
      dealer: dealer.value.trim(),
      errorCode: errorCode.value,
      q: search.value.trim(),
      tail: state.tail ? '1' : '',
      ...changes,
    });
  errorCode.addEventListener('change', () => apply());
  const chips = STATUSES.map((status) =>
    h(
      'button',
      {
        type: 'button',
        class: ['chip', status],
        'aria-pressed': String(statuses.has(status)),
        events: {
          click: () => {
            if (statuses.has(status)) statuses.delete(status);
            else statuses.add(status);
            apply();
          },
        },
      },
      status,
    ),
  );
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      events: {
        submit: (event) => {
          event.preventDefault();
          apply();
        },
      },
    },
    h('div', { class: 'field' }, h('span', { class: 'small muted' }, 'Status'), h('div', { class: 'chips' }, chips)),
    h('label', { class: 'field' }, 'Subscriber', subscriber),
    h('label', { class: 'field' }, 'Dealer', dealer),
    h('label', { class: 'field' }, 'Error code', errorCode),
    h('label', { class: 'field' }, 'Search', search),
    h('button', { type: 'submit', class: 'button' }, 'Apply'),
    h(
      'button',
      { type: 'button', class: 'button secondary', events: { click: () => navigate('/events', { tail: state.tail ? '1' : '' }) } },
      'Clear',
    ),
  );

  // ---- the table ----
  const tbody = h('tbody');
  const table = h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data', id: 'events-table' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Received', 'Status', 'Subscriber', 'Dealer', 'Errors', 'Attempts', 'Request id'].map((title) => h('th', {}, title)),
        ),
      ),
      tbody,
    ),
  );
  const empty = h('div', { class: 'empty', hidden: true }, 'No event matches this filter.');
  const shown = h('span', { class: 'muted small', id: 'events-count' });
  const more = h('button', { type: 'button', class: 'button secondary', id: 'load-more', hidden: true }, 'Load more');
  const jobArea = h('div');
  const feedback = h('div');

  const add = (items, where) => {
    const rows = [];
    for (const item of items) {
      const existing = state.rows.get(item.requestId);
      const tr = row(item, navigate);
      if (existing) {
        if (existing.dataset.status !== item.status) existing.replaceWith(tr);
        else continue;
      } else {
        rows.push(tr);
        if (where === 'top') tr.classList.add('fresh');
      }
      state.rows.set(item.requestId, tr);
      if (item.receivedAt > state.newest) state.newest = item.receivedAt;
    }
    if (where === 'top') tbody.prepend(...rows);
    else tbody.append(...rows);
    empty.hidden = state.rows.size > 0;
    replace(shown, `${count(state.rows.size)} event${state.rows.size === 1 ? '' : 's'} shown${state.cursor ? ', more below' : ''}`);
  };

  const fetchPage = (cursor) => admin.get(`/events${query({ ...filter, limit: PAGE_SIZE, cursor })}`, { signal });

  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await fetchPage(state.cursor);
      state.cursor = page.nextCursor;
      add(page.items, 'bottom');
      more.hidden = state.cursor === null;
    } catch (err) {
      if (err.name !== 'AbortError') replace(feedback, notice('error', `Loading more failed: ${err.message}`));
    } finally {
      more.disabled = false;
    }
  });

  // ---- live tail ----
  let timer = null;
  const tailBox = h('input', { type: 'checkbox', id: 'live-tail', checked: state.tail });
  const tailLabel = h('span', {}, 'Live tail');
  const poll = async () => {
    try {
      const page = await fetchPage();
      // The first page holds the newest events: add those not shown, refresh the others.
      add(
        page.items.filter((item) => state.rows.has(item.requestId) || item.receivedAt >= state.newest),
        'top',
      );
    } catch (err) {
      if (err.name !== 'AbortError') replace(feedback, notice('error', `Live tail: ${err.message}`));
    }
  };
  const setTail = (on) => {
    state.tail = on;
    clearInterval(timer);
    timer = on ? setInterval(poll, TAIL_MS) : null;
    tailLabel.className = on ? 'tail-on' : '';
    replace(tailLabel, on ? 'Live tail (every 2 s)' : 'Live tail');
    // Kept in the URL without rendering the page again.
    const params = new URLSearchParams(location.hash.split('?')[1] ?? '');
    if (on) params.set('tail', '1');
    else params.delete('tail');
    const text = params.toString();
    history.replaceState(null, '', `#/events${text ? `?${text}` : ''}`);
    sessionStorage.setItem(LAST_LIST_KEY, location.hash);
  };
  tailBox.addEventListener('change', () => setTail(tailBox.checked));
  signal.addEventListener('abort', () => clearInterval(timer));

  // ---- replay all matching ----
  const replayAll = h('button', { type: 'button', class: 'button danger', id: 'replay-all' }, 'Replay all matching…');
  replayAll.addEventListener('click', () => {
    const what = Object.keys(filter).length === 0 ? 'every event' : 'every event matching this filter';
    const note = filter.status ? '' : ' Without a status in the filter, REJECTED and FAILED events are replayed.';
    const confirmButton = h('button', { type: 'button', class: 'button danger', id: 'replay-all-confirm' }, 'Replay them');
    const cancel = h('button', { type: 'button', class: 'button secondary' }, 'Cancel');
    cancel.addEventListener('click', () => replace(jobArea));
    confirmButton.addEventListener('click', async () => {
      confirmButton.disabled = true;
      try {
        const job = await admin.post('/replays', { filter }, { signal });
        replace(
          jobArea,
          replayProgress(job, {
            signal,
            onFinished: () =>
              jobArea.append(
                h('button', { type: 'button', class: 'button secondary', events: { click: () => apply() } }, 'Refresh the list'),
              ),
          }),
        );
      } catch (err) {
        if (err.name !== 'AbortError') replace(jobArea, notice('error', `Replay refused: ${err.message}`));
      }
    });
    replace(
      jobArea,
      notice('warn', `Replay ${what}, not only the rows shown?${note} `, h('span', { class: 'row' }, confirmButton, cancel)),
    );
  });

  const first = await fetchPage();
  state.cursor = first.nextCursor;
  ctx.mount(
    h('h1', {}, 'Events'),
    form,
    h('div', { class: 'toolbar' }, h('label', { class: 'check' }, tailBox, tailLabel), shown, h('span', { class: 'spacer' }), replayAll),
    jobArea,
    feedback,
    table,
    empty,
    h('div', { class: 'more' }, more),
  );
  add(first.items, 'bottom');
  more.hidden = state.cursor === null;
  if (state.tail) setTail(true);
}
