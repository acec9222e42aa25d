// Overview: the last 24 hours from GET /admin/v1/stats — counts per status, the backlog and its
// oldest event, events and lead saves per hour, the rejections that happened in the window and
// their most frequent codes (counted from the events' timelines: an event rejected and then
// replayed still counts). Refreshed every 15 s while on screen.
import { admin, query } from '../api.js';
import { legend, stackedBars } from '../chart.js';
import { h, notice } from '../dom.js';
import { age, clockTime, count, dateTime } from '../format.js';

const REFRESH_MS = 15_000;

const EVENT_SERIES = [
  { key: 'PROCESSED', label: 'Processed' },
  { key: 'REJECTED', label: 'Rejected' },
  { key: 'FAILED', label: 'Failed' },
  { key: 'RECEIVED', label: 'Waiting (received)' },
];
const LEAD_SERIES = [{ key: 'LEADS', label: 'Leads saved' }];

function tile(kind, label, value, href, detail) {
  const body = [
    h('span', { class: 'value' }, value),
    h('span', { class: 'label' }, label),
    detail ? h('div', { class: 'small muted' }, detail) : null,
  ];
  return href ? h('a', { class: ['tile', kind], href }, body) : h('div', { class: ['tile', kind] }, body);
}

function rejectionsTable(rows) {
  if (rows.length === 0) return h('div', { class: 'empty' }, 'No rejection in the last 24 hours.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Subscriber'), h('th', {}, 'Error code'), h('th', {}, 'Rejections'))),
      h(
        'tbody',
        {},
        rows.map((r) =>
          h(
            'tr',
            {},
            h('td', {}, r.subscriber),
            h(
              'td',
              {},
              h('a', { href: `#/events${query({ status: 'REJECTED', subscriber: r.subscriber, errorCode: r.errorCode })}` }, r.errorCode),
            ),
            h('td', {}, count(r.count)),
          ),
        ),
      ),
    ),
  );
}

function build(stats) {
  const { totals, backlog } = stats;
  const eventRows = stats.hours.map((hour) => ({ start: hour.start, values: hour.statuses }));
  const leadRows = stats.hours.map((hour) => ({ start: hour.start, values: { LEADS: hour.leadsSaved } }));
  return [
    h(
      'div',
      { class: 'title-row' },
      h('h1', {}, 'Overview'),
      h('span', { class: 'muted small' }, `Last 24 hours · updated ${clockTime(stats.generatedAt)}`),
    ),
    h(
      'div',
      { class: 'tiles' },
      tile('received', 'Events received (24 h)', count(totals.received), '#/events'),
      tile('processed', 'Processed', count(totals.statuses.PROCESSED), '#/events?status=PROCESSED'),
      tile(
        'rejected',
        'Rejected',
        count(totals.statuses.REJECTED),
        '#/events?status=REJECTED',
        totals.rejections === undefined
          ? null
          : `${count(totals.rejections)} ${totals.rejections === 1 ? 'rejection' : 'rejections'} in 24 h, replayed ones included`,
      ),
      tile('failed', 'Failed', count(totals.statuses.FAILED), '#/events?status=FAILED'),
      tile('backlog', 'Backlog (waiting now)', count(backlog.events), '#/events?status=RECEIVED'),
      tile(
        'backlog',
        'Oldest unprocessed',
        backlog.oldestAgeSeconds === null ? 'none' : age(backlog.oldestAgeSeconds),
        null,
        backlog.oldestReceivedAt ? `received ${dateTime(backlog.oldestReceivedAt)}` : 'the queue is empty',
      ),
    ),
    h(
      'div',
      { class: 'overview-grid' },
      h(
        'section',
        { class: 'panel' },
        h('h3', {}, 'Events per hour, by status now'),
        stackedBars(eventRows, EVENT_SERIES, { width: 820, height: 300, label: 'Events received per hour, by status' }),
        legend(EVENT_SERIES),
      ),
      h(
        'div',
        { class: 'stack' },
        h(
          'section',
          { class: 'panel', id: 'rejections-panel' },
          h('h3', {}, 'Top rejection codes (24 h)'),
          rejectionsTable(stats.topRejections),
          stats.topRejections.length > 0
            ? h(
                'p',
                { class: 'small muted' },
                'Every rejection in the window, also of events replayed since. A code lists the events still rejected.',
              )
            : null,
        ),
        h(
          'section',
          { class: 'panel', id: 'leads-panel' },
          h('h3', {}, `Leads saved per hour (${count(totals.leadsSaved)} in 24 h)`),
          stackedBars(leadRows, LEAD_SERIES, { width: 420, height: 170, label: 'Leads saved per hour' }),
          h('p', { class: 'small muted' }, 'A lead saved several times counts once, in the hour of its latest save.'),
        ),
      ),
    ),
  ];
}

export async function render(ctx) {
  let stats;
  try {
    stats = await admin.get('/stats', { signal: ctx.signal });
  } catch (err) {
    if (err.routeMissing) {
      ctx.mount(h('h1', {}, 'Overview'), notice('warn', 'This server has no statistics route (GET /admin/v1/stats).'));
      return;
    }
    throw err;
  }
  ctx.mount(...build(stats));
  const timer = setInterval(async () => {
    try {
      ctx.mount(...build(await admin.get('/stats', { signal: ctx.signal })));
    } catch {
      // The next refresh tries again; a signed-out session is handled by api.js.
    }
  }, REFRESH_MS);
  ctx.signal.addEventListener('abort', () => clearInterval(timer));
}
