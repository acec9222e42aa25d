// What the Deliveries pages share: the outbound types and message statuses the admin API knows,
// badges for a destination's health and for a receiver's reply (HTTP, or SMTP for an email
// destination), the link to a message's source, and the box that shows a signing secret once
// (created or rotated) with a way to copy it.
import { h, replace } from './dom.js';

/** The outbound types a destination subscribes to: generated from src/outbox/outbound-types.ts. */
export { OUTBOUND_TYPES } from './codes.js';

export const MESSAGE_STATUSES = ['PENDING', 'DELIVERED', 'FAILED'];

/** The types an adf-xml destination (and so an email one) carries: leads only. */
export const ADF_TYPES = ['lead.created', 'lead.updated'];

/** Types whose sourceId is an event's requestId (the others: a lead's prospectUuid). */
const EVENT_SOURCED = new Set(['chat_summary.processed', 'event.rejected']);

const HEALTH_LABELS = { healthy: 'Healthy', failing: 'Failing', 'breaker-open': 'Breaker open', disabled: 'Disabled' };

export const healthBadge = (state) => h('span', { class: ['badge', 'health', state], dataset: { state } }, HEALTH_LABELS[state] ?? state);

/** The event a message was made from (a link to its detail), or the lead's prospect UUID (text). */
export function sourceOf(message) {
  if (EVENT_SOURCED.has(message.type) && message.sourceId !== 'test') {
    return h('a', { class: 'mono', href: `#/events/${encodeURIComponent(message.sourceId)}` }, message.sourceId);
  }
  return h('span', { class: 'mono' }, message.sourceId);
}

const PROTOCOLS = { webhook: 'HTTP', email: 'SMTP' };

/**
 * A receiver's reply code as a badge, green for 2xx: "HTTP 204" from a webhook, "SMTP 250" from
 * an email destination's mail server; the bare code when the destination's kind is not known.
 */
export function replyBadge(statusCode, kind) {
  const protocol = PROTOCOLS[kind];
  return h(
    'span',
    { class: ['badge', statusCode >= 200 && statusCode < 300 ? 'http-ok' : 'http-error'] },
    protocol ? `${protocol} ${statusCode}` : String(statusCode),
  );
}

/**
 * A signing secret, shown this once: the answer that created or rotated it is the only one that
 * holds it. `title`: what happened; `extra`: more text under it (the overlap of a rotation).
 */
export function secretBox(title, secret, extra) {
  const code = h('code', { class: 'secret', tabindex: '0' }, secret);
  const status = h('span', { class: 'small', 'aria-live': 'polite' });
  const copy = h('button', { type: 'button', class: 'button secondary small' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(secret);
      replace(status, 'Copied.');
    } catch {
      // No clipboard (an insecure context, a refused permission): select it for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(code);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      replace(status, 'Selected: press Ctrl+C (⌘C) to copy it.');
    }
  });
  return h(
    'div',
    { class: 'notice ok secret-box', role: 'status' },
    h('strong', {}, title),
    h('div', { class: 'secret-row' }, code, copy, status),
    h(
      'p',
      { class: 'small' },
      h('strong', {}, 'Shown once: '),
      'copy it now into the receiver’s configuration (it verifies the webhook-signature header with it). It is never shown again; if it is lost, rotate the secret.',
    ),
    extra ? h('p', { class: 'small' }, extra) : null,
  );
}
