// One event: its facts, errors and warnings, the raw body beside the canonical record (the lines
// of the fields an error names highlighted), its timeline of attempts, a link to the messages its
// outcome was delivered as (#/deliveries/messages?source=<requestId>), and "Replay". While the
// event waits in RECEIVED (after a replay, say) the page refreshes itself every 2 s.
import { admin, query, segment } from '../api.js';
import { badge, h, notice, replace } from '../dom.js';
import { follower } from '../follow.js';
import { dateTime } from '../format.js';
import { fieldsNamed, jsonView } from '../json-view.js';
import { LAST_LIST_KEY } from './events.js';

const REPLAY_FIXES = new Set(['REJECTED', 'FAILED']);

function problems(kind, list) {
  if (list.length === 0) return null;
  const code = (p) => p.errorCode ?? p.warningCode;
  const message = (p) => p.errorMessage ?? p.warningMessage;
  return h(
    'div',
    { class: ['notice', kind === 'errors' ? 'error' : 'warn'], id: `event-${kind}` },
    h('h3', {}, kind === 'errors' ? `Errors (${list.length})` : `Warnings (${list.length})`),
    h(
      'ul',
      { class: 'problems' },
      list.map((p) => h('li', {}, h('span', { class: 'code-tag' }, code(p)), ' ', message(p))),
    ),
  );
}

function facts(event) {
  const entries = [
    ['Subscriber', event.subscriber],
    ['Event type', event.eventType],
    ['Received', dateTime(event.receivedAt)],
    ['Finished', dateTime(event.processedAt)],
    ['Attempts', String(event.attempts)],
    ['Dealer', event.dealerUuid ?? '—'],
    ['Idempotency key', event.idempotencyKey ?? '—'],
    [
      'Deliveries',
      h('a', { id: 'event-messages', href: `#/deliveries/messages${query({ source: event.requestId })}` }, 'Messages sent for this event'),
    ],
  ];
  return h(
    'dl',
    { class: 'facts panel' },
    entries.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))),
  );
}

function timeline(entries) {
  if (entries.length === 0) return h('div', { class: 'empty' }, 'No attempt yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data', id: 'timeline' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['#', 'At', 'Outcome', 'Worker', 'Cause'].map((t) => h('th', {}, t)),
        ),
      ),
      h(
        'tbody',
        {},
        entries.map((e) =>
          h(
            'tr',
            {},
            h('td', {}, String(e.attempt)),
            h('td', { class: 'nowrap' }, dateTime(e.at)),
            h('td', {}, badge(e.outcome)),
            h('td', { class: 'mono' }, e.workerId ?? '—'),
            h('td', {}, e.cause ?? ''),
          ),
        ),
      ),
    ),
  );
}

export async function render(ctx) {
  const { signal } = ctx;
  const requestId = decodeURIComponent(ctx.match[1]);
  const back = sessionStorage.getItem(LAST_LIST_KEY);
  const feedback = h('div');

  const load = () => admin.get(`/events/${segment(requestId)}`, { signal });
  const follow = follower(signal, load, show, feedback);

  const replay = h('button', { type: 'button', class: 'button', id: 'replay-event' }, 'Replay');
  // Replay is the page's primary action only where it can fix something: a REJECTED or FAILED
  // event. On the others (PROCESSED, RECEIVED) it stays available, as a secondary button.
  const showReplayFor = (status) => replay.classList.toggle('secondary', !REPLAY_FIXES.has(status));
  replay.addEventListener('click', async () => {
    replay.disabled = true;
    try {
      const event = await admin.post(`/events/${segment(requestId)}/replay`, {}, { signal });
      show(event);
      replace(feedback, notice('ok', 'Replayed: the event is back in the queue and will be processed with the current integration.'));
    } catch (err) {
      if (err.name === 'AbortError') return;
      const message = err.code === 'CONFLICT' ? 'The event is being processed right now; replay it once that is done.' : err.message;
      replace(feedback, notice('error', `Replay refused: ${message}`));
    } finally {
      replay.disabled = false;
    }
  });

  const content = h('div');
  function show(event) {
    const highlight = fieldsNamed(event.errors);
    showReplayFor(event.status);
    replace(
      content,
      h('div', { class: 'title-row' }, h('h1', {}, 'Event'), h('code', { id: 'event-id' }, event.requestId), badge(event.status), replay),
      feedback,
      facts(event),
      problems('errors', event.errors),
      problems('warnings', event.warnings),
      event.lastError ? notice('warn', h('strong', {}, 'Last transient failure: '), event.lastError) : null,
      h(
        'div',
        { class: 'split' },
        h(
          'section',
          { id: 'raw-body' },
          h('h2', {}, 'Raw body, as received'),
          event.rawBody === null
            ? h('div', { class: 'empty panel' }, 'Purged by retention (RETENTION_BODY_DAYS): this event can no longer be replayed.')
            : jsonView(event.rawBody, highlight),
        ),
        h(
          'section',
          { id: 'canonical' },
          h('h2', {}, 'Canonical record'),
          event.canonical
            ? jsonView(event.canonical, highlight)
            : h('div', { class: 'empty panel' }, `None: the event is ${event.status}.`),
        ),
      ),
      h('h2', {}, 'Timeline'),
      timeline(event.timeline),
    );
    follow(event.status === 'RECEIVED');
  }

  let event;
  try {
    event = await load();
  } catch (err) {
    if (err.code !== 'EVENT_NOT_FOUND') throw err;
    ctx.mount(h('h1', {}, 'Event'), notice('error', `No event ${requestId}.`));
    return;
  }
  ctx.mount(h('a', { class: 'back', href: back?.startsWith('#/events') ? back : '#/events' }, '← Events'), content);
  show(event);
}
