// One outbox message (#/deliveries/messages/<id>): its facts, the payload as sent (the envelope as
// pretty JSON; an ADF document, XML, as the text it is), and its attempt log — each attempt's
// time, duration, the receiver's status (an HTTP status, or an SMTP reply code when the
// destination is email) or why there was none, and the receiver's headers and body (a mail
// server's reply text), as text: a receiver answering markup shows the markup. A FAILED message
// has "Retry"; while the message is PENDING the page reads it again every 2 s, so a retry is seen
// through to DELIVERED or FAILED.
import { admin, query, segment } from '../api.js';
import { replyBadge, sourceOf } from '../delivery.js';
import { badge, h, notice, replace } from '../dom.js';
import { follower } from '../follow.js';
import { count, dateTime } from '../format.js';
import { jsonView } from '../json-view.js';
import { LAST_MESSAGES_KEY } from './messages.js';

function facts(message) {
  const entries = [
    ['Destination', h('a', { href: `#/deliveries/messages${query({ destination: message.destination })}` }, message.destination)],
    ['Type', h('span', { class: 'mono' }, message.type)],
    ['Dealer', message.dealerUuid ?? '—'],
    ['Source', sourceOf(message)],
    ['Created', dateTime(message.createdAt)],
    ['Attempts', String(message.attempts)],
    ['Next attempt', dateTime(message.nextAttemptAt)],
    ['Delivered', dateTime(message.deliveredAt)],
  ];
  return h(
    'dl',
    { class: 'facts panel' },
    entries.map(([term, value]) => h('div', {}, h('dt', {}, term), h('dd', {}, value))),
  );
}

/** Text in a scrolling block, or a muted dash when there is none. */
function textBlock(text, cls) {
  if (text === null || text === undefined || text === '') return h('span', { class: 'muted' }, '—');
  return h('pre', { class: ['text-block', cls] }, text);
}

function headersText(headers) {
  if (!headers) return null;
  const lines = Object.entries(headers).map(([name, value]) => `${name}: ${value}`);
  return lines.length === 0 ? null : lines.join('\n');
}

/** An XML payload (an ADF document), not the JSON envelope: the service answers it as a string. */
function isXml(message) {
  if (typeof message.contentType === 'string') return /xml/i.test(message.contentType);
  return typeof message.payload === 'string' && message.payload.trimStart().startsWith('<');
}

/** The payload as sent: XML as text, JSON pretty-printed; nothing when no document could be made. */
function payloadView(message) {
  const { payload } = message;
  if (payload === null || payload === undefined || payload === '') {
    return h('div', { class: 'empty panel' }, 'No payload: nothing could be sent (see the last error).');
  }
  if (isXml(message)) return h('pre', { class: 'xml' }, typeof payload === 'string' ? payload : JSON.stringify(payload));
  return jsonView(payload);
}

function attemptLog(entries, kind) {
  if (entries.length === 0) return h('div', { class: 'empty panel', id: 'attempt-log' }, 'No attempt yet.');
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'data', id: 'attempt-log' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['#', 'At', 'Duration', 'Result', 'Response headers', kind === 'email' ? 'Server reply' : 'Response body'].map((t) =>
            h('th', {}, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        entries.map((a, i) =>
          h(
            'tr',
            { dataset: { attempt: String(a.attempt), statusCode: a.statusCode === null ? '' : String(a.statusCode) } },
            h(
              'td',
              {},
              String(a.attempt),
              // A retry starts the count again: say so where it does.
              i > 0 && a.attempt <= entries[i - 1].attempt ? h('div', { class: 'small muted nowrap' }, 'sent again') : null,
            ),
            h('td', { class: 'nowrap' }, dateTime(a.at)),
            h('td', { class: 'nowrap' }, `${count(a.durationMs)} ms`),
            h(
              'td',
              { class: 'result' },
              a.statusCode === null ? null : replyBadge(a.statusCode, kind),
              a.error ? h('div', { class: 'small error-text' }, a.error) : null,
            ),
            h('td', { class: 'headers' }, textBlock(headersText(a.responseHeaders), 'headers')),
            h('td', { class: 'body' }, textBlock(a.responseBody, 'body')),
          ),
        ),
      ),
    ),
  );
}

export async function render(ctx) {
  const { signal } = ctx;
  const id = decodeURIComponent(ctx.match[1]);
  const back = sessionStorage.getItem(LAST_MESSAGES_KEY);
  const feedback = h('div');

  const load = () => admin.get(`/messages/${segment(id)}`, { signal });
  /** The kind of the message's destination (email: its attempts are SMTP replies); undefined when unknown. */
  let kind;
  const kindOf = (name) =>
    admin.get(`/destinations/${segment(name)}`, { signal }).then(
      (d) => d.kind,
      (err) => {
        if (err.name === 'AbortError') throw err;
        return undefined;
      },
    );
  const follow = follower(signal, load, show, feedback);

  const retry = h('button', { type: 'button', class: 'button', id: 'retry-message' }, 'Retry');
  let following = false;
  retry.addEventListener('click', async () => {
    retry.disabled = true;
    try {
      following = true;
      replace(feedback, notice('info', 'Sent again: the message is PENDING, on a fresh schedule; this page follows it.'));
      show(await admin.post(`/messages/${segment(id)}/retry`, {}, { signal }));
    } catch (err) {
      following = false;
      if (err.name === 'AbortError') return;
      replace(feedback, notice('error', `Retry refused: ${err.message}`));
    } finally {
      retry.disabled = false;
    }
  });

  const content = h('div');
  function show(message) {
    retry.hidden = message.status !== 'FAILED';
    if (following && message.status !== 'PENDING') {
      following = false;
      replace(
        feedback,
        message.status === 'DELIVERED'
          ? notice('ok', `Delivered after the retry, at ${dateTime(message.deliveredAt)}.`)
          : notice('error', 'The retry failed too: see the attempts below.'),
      );
    }
    replace(
      content,
      h('div', { class: 'title-row' }, h('h1', {}, 'Message'), h('code', { id: 'message-id' }, message.id), badge(message.status), retry),
      feedback,
      message.lastError && message.status !== 'DELIVERED'
        ? notice(message.status === 'FAILED' ? 'error' : 'warn', h('strong', {}, 'Last error: '), message.lastError)
        : null,
      facts(message),
      h('h2', {}, 'Attempts'),
      attemptLog(message.attemptLog, kind),
      h('h2', {}, isXml(message) ? 'ADF document, as sent' : 'Envelope, as sent'),
      h('section', { id: 'envelope', dataset: { format: isXml(message) ? 'xml' : 'json' } }, payloadView(message)),
    );
    follow(message.status === 'PENDING');
  }

  let message;
  try {
    message = await load();
  } catch (err) {
    if (err.routeMissing) {
      ctx.mount(h('h1', {}, 'Message'), notice('warn', 'This server has no delivery routes (GET /admin/v1/messages/…).'));
      return;
    }
    if (err.status !== 404 && err.status !== 400) throw err;
    ctx.mount(h('h1', {}, 'Message'), notice('error', `No message ${id}.`));
    return;
  }
  kind = await kindOf(message.destination);
  ctx.mount(
    h('a', { class: 'back', href: back?.startsWith('#/deliveries/messages') ? back : '#/deliveries/messages' }, '← Messages'),
    content,
  );
  show(message);
}
