// Integrations: the list of every integration (#/integrations: partner × event type, active or
// not, and the partner's latest event of the type with its status now, from
// GET /admin/v1/integrations), and the editor of one (#/integrations?subscriber=…&eventType=…):
// active, dealer id field, dealer map, JSONata transform, JSON Schema — with a live preview:
// each pause in typing runs the candidate on one of the partner's recent events (or a pasted
// body) through POST …/dry-run, which stores nothing. Save sends the same fields with PATCH.
import { admin, query, segment } from '../api.js';
import { badge, debounce, h, notice, replace } from '../dom.js';
import { dateTime } from '../format.js';
import { jsonView } from '../json-view.js';
import { pager } from '../pager.js';

const EVENT_TYPES = ['vehicle-service-chat'];
const LIST_PAGE_SIZE = 50;
const PREVIEW_DELAY_MS = 400;
const PASTED = '__pasted__';

/** JSON text → value; '' → null. Throws a readable error. */
function parseJson(label, text) {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${label} is not valid JSON: ${err.message}`);
  }
}

const jsonText = (value) => (value === null || value === undefined ? '' : JSON.stringify(value, null, 2));

/** Names typed by hand, for a server without the list route. */
function openByName(ctx, selected) {
  const subscriber = h('input', { type: 'text', name: 'subscriber', value: selected.subscriber ?? '', required: true });
  const eventType = h(
    'select',
    { name: 'eventType' },
    EVENT_TYPES.map((t) => h('option', { value: t, selected: t === selected.eventType }, t)),
  );
  return h(
    'form',
    {
      class: 'filters',
      events: {
        submit: (e) => {
          e.preventDefault();
          ctx.navigate('/integrations', { subscriber: subscriber.value.trim(), eventType: eventType.value });
        },
      },
    },
    h('label', { class: 'field' }, 'Subscriber', subscriber),
    h('label', { class: 'field' }, 'Event type', eventType),
    h('button', { type: 'submit', class: 'button' }, 'Open'),
  );
}

function lastEventCell(last) {
  if (last === undefined) return h('td', { class: 'last muted' }, '—');
  if (last === null) return h('td', { class: 'last muted' }, 'No event yet');
  return h(
    'td',
    { class: 'last' },
    badge(last.status),
    ' ',
    h('a', { class: 'nowrap', href: `#/events/${encodeURIComponent(last.requestId)}` }, dateTime(last.receivedAt)),
    last.errorCodes.length > 0
      ? h(
          'div',
          {},
          last.errorCodes.map((code) => h('span', { class: 'code-tag' }, code)),
        )
      : null,
  );
}

function integrationRow(item, navigate) {
  const open = () => navigate('/integrations', { subscriber: item.subscriber, eventType: item.eventType });
  return h(
    'tr',
    {
      class: 'link',
      dataset: { subscriber: item.subscriber, eventType: item.eventType },
      events: {
        // A link inside the row (the latest event) goes where it says.
        click: (e) => {
          if (!e.target.closest('a')) open();
        },
      },
    },
    h('td', {}, item.subscriber),
    h('td', {}, item.eventType),
    h('td', { class: 'state' }, item.active ? h('span', { class: 'badge yes' }, 'Active') : h('span', { class: 'badge no' }, 'Inactive')),
    lastEventCell(item.lastEvent),
    h('td', { class: 'nowrap' }, dateTime(item.updatedAt)),
    h(
      'td',
      {},
      h('a', { href: `#/events${query({ subscriber: item.subscriber })}` }, 'Events'),
      item.lastEvent?.status === 'REJECTED'
        ? [' · ', h('a', { href: `#/events${query({ status: 'REJECTED', subscriber: item.subscriber })}` }, 'Rejected')]
        : null,
    ),
  );
}

/** #/integrations: every integration, a page at a time. */
async function integrationList(ctx) {
  const tbody = h('tbody');
  const moreError = h('div');
  const { more, load } = pager(ctx, {
    url: (cursor) => `/integrations${query({ limit: LIST_PAGE_SIZE, cursor })}`,
    container: tbody,
    draw: (item) => integrationRow(item, ctx.navigate),
    onMoreError: (err) => replace(moreError, notice('error', `Loading more integrations failed: ${err.message}`)),
  });
  let body;
  try {
    const first = await load();
    body =
      first.items.length === 0
        ? h('div', { class: 'empty panel' }, 'No integration exists yet: create one with apply or POST /admin/v1/integrations.')
        : [
            h(
              'div',
              { class: 'table-wrap' },
              h(
                'table',
                { class: 'data', id: 'integrations' },
                h(
                  'thead',
                  {},
                  h(
                    'tr',
                    {},
                    ['Subscriber', 'Event type', 'State', 'Latest event (status now)', 'Changed', ''].map((t) => h('th', {}, t)),
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
    if (!err.routeMissing) throw err;
    // No list route on this server: names typed by hand.
    body = [notice('warn', 'This server cannot list integrations: name the one to edit.'), openByName(ctx, {})];
  }
  ctx.mount(
    h('h1', {}, 'Integrations'),
    h('p', { class: 'muted' }, 'Each partner’s configuration per event type. Open one to edit it with a live preview.'),
    body,
  );
}

function previewResult(result) {
  const parts = [
    h(
      'div',
      { class: 'preview-status' },
      h('strong', {}, 'Would be'),
      h('span', { id: 'preview-status' }, badge(result.status)),
      result.dealerUuid ? h('span', { class: 'muted' }, `dealer ${result.dealerUuid}`) : null,
    ),
  ];
  if (result.diff) {
    const before = result.diff.before?.status;
    const changed = result.diff.changedFields ?? [];
    parts.push(
      h(
        'p',
        { class: 'small muted' },
        `Stored outcome: ${before ?? '—'}${result.diff.statusChanged ? ` → ${result.status}` : ' (unchanged)'}`,
        changed.length > 0 ? ` · canonical fields that change: ${changed.join(', ')}` : '',
      ),
    );
  }
  if (result.errors.length > 0) {
    parts.push(
      notice(
        'error',
        h(
          'ul',
          { class: 'problems' },
          result.errors.map((e) => h('li', {}, h('span', { class: 'code-tag' }, e.errorCode), ' ', e.errorMessage)),
        ),
      ),
    );
  }
  if (result.warnings.length > 0) {
    parts.push(
      notice(
        'warn',
        h(
          'ul',
          { class: 'problems' },
          result.warnings.map((w) => h('li', {}, h('span', { class: 'code-tag' }, w.warningCode), ' ', w.warningMessage)),
        ),
      ),
    );
  }
  if (result.canonical) parts.push(h('h3', {}, 'Canonical record'), jsonView(result.canonical));
  return parts;
}

async function editor(ctx, subscriber, eventType) {
  const { signal } = ctx;
  const base = `/integrations/${segment(subscriber)}/${segment(eventType)}`;
  let integration;
  try {
    integration = await admin.get(base, { signal });
  } catch (err) {
    if (err.routeMissing) return [notice('warn', 'This server has no integration routes (GET /admin/v1/integrations/…).')];
    if (err.status === 404) return [notice('error', `No ${eventType} integration for ${subscriber}.`)];
    throw err;
  }
  const recent = await admin.get(`/events${query({ subscriber, eventType, limit: 20 })}`, { signal });

  // ---- the form ----
  const active = h('input', { type: 'checkbox', name: 'active', checked: integration.active });
  const dealerIdField = h('input', { type: 'text', name: 'dealerIdField', value: integration.dealerIdField ?? 'dealer_uuid', size: 24 });
  const area = (name, cls, value, placeholder) => h('textarea', { name, class: cls, spellcheck: 'false', placeholder, value: value ?? '' });
  const dealerMap = area('dealerMap', 'map', jsonText(integration.dealerMap ?? {}), '{ "PARTNER-ID": "our-dealer-uuid" }');
  const transform = area('transform', 'transform', integration.transform ?? '', 'Empty: the body already is canonical');
  const schema = area('schema', 'schema', jsonText(integration.schema), 'Empty: no JSON Schema');
  const formError = h('div');
  const saveButton = h('button', { type: 'button', class: 'button', id: 'save-integration' }, 'Save');
  const saveState = h('span', { class: 'small muted', id: 'save-state' });

  const candidate = () => {
    const value = {
      active: active.checked,
      dealerIdField: dealerIdField.value.trim() || 'dealer_uuid',
      dealerMap: parseJson('The dealer map', dealerMap.value) ?? {},
      schema: parseJson('The JSON Schema', schema.value),
      transform: transform.value.trim() === '' ? null : transform.value,
    };
    if (typeof value.dealerMap !== 'object' || Array.isArray(value.dealerMap)) throw new Error('The dealer map must be a JSON object');
    return value;
  };
  let saved = JSON.stringify(candidate());

  // ---- the preview ----
  const sample = h(
    'select',
    { name: 'sample', id: 'preview-event' },
    recent.items.map((e) =>
      h(
        'option',
        { value: e.requestId },
        `${dateTime(e.receivedAt)} · ${e.status}${e.errorCodes.length ? ` · ${e.errorCodes.join(', ')}` : ''}`,
      ),
    ),
    h('option', { value: PASTED }, 'A body I paste…'),
  );
  const pasted = area('body', 'schema', '', 'Paste an event body (JSON) as the partner would send it');
  pasted.hidden = recent.items.length > 0;
  if (recent.items.length === 0) sample.value = PASTED;
  const preview = h('div', { id: 'preview', 'aria-live': 'polite' });
  let inFlight = null;

  const runPreview = async () => {
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    signal.addEventListener('abort', () => controller.abort(), { once: true });
    let body;
    try {
      const cand = candidate();
      for (const el of [dealerMap, schema]) el.classList.remove('invalid');
      body = { candidate: cand };
      if (sample.value === PASTED) {
        if (pasted.value.trim() === '') {
          replace(preview, h('p', { class: 'muted' }, 'Paste a body to preview.'));
          return;
        }
        body.body = pasted.value;
      } else body.requestId = sample.value;
    } catch (err) {
      (/dealer map/i.test(err.message) ? dealerMap : schema).classList.add('invalid');
      replace(preview, notice('error', err.message));
      return;
    }
    replace(preview, h('p', { class: 'muted', id: 'preview-running' }, 'Running the preview…'));
    try {
      const result = await admin.post(`${base}/dry-run`, body, { signal: controller.signal });
      if (inFlight === controller) replace(preview, ...previewResult(result));
    } catch (err) {
      if (err.name === 'AbortError') return;
      const text = err.routeMissing ? 'This server has no dry-run route: the preview is not available.' : err.message;
      replace(preview, notice('error', text));
    }
  };
  const schedule = debounce(runPreview, PREVIEW_DELAY_MS);
  signal.addEventListener('abort', () => schedule.cancel());

  const onEdit = () => {
    try {
      replace(formError);
      replace(saveState, JSON.stringify(candidate()) === saved ? '' : 'Unsaved changes');
    } catch {
      replace(saveState, 'Unsaved changes');
    }
    schedule();
  };
  for (const el of [active, dealerIdField, dealerMap, transform, schema, pasted]) el.addEventListener('input', onEdit);
  active.addEventListener('change', onEdit);
  sample.addEventListener('change', () => {
    pasted.hidden = sample.value !== PASTED;
    schedule();
  });

  saveButton.addEventListener('click', async () => {
    let value;
    try {
      value = candidate();
    } catch (err) {
      replace(formError, notice('error', err.message));
      return;
    }
    saveButton.disabled = true;
    try {
      const stored = await admin.patch(base, value, { signal });
      saved = JSON.stringify(value);
      replace(saveState, `Saved at ${dateTime(stored.updatedAt ?? new Date().toISOString()).slice(11)}`);
      replace(
        formError,
        notice(
          'ok',
          'Saved. Events rejected before are not processed again by themselves: ',
          h('a', { href: `#/events${query({ status: 'REJECTED', subscriber })}` }, 'find and replay them'),
          '.',
        ),
      );
    } catch (err) {
      if (err.name !== 'AbortError') replace(formError, notice('error', `Not saved: ${err.message}`));
    } finally {
      saveButton.disabled = false;
    }
  });

  runPreview();
  return [
    h(
      'div',
      { class: 'split' },
      h(
        'section',
        { class: 'panel editor', id: 'integration-editor' },
        h('h2', {}, `${subscriber} · ${eventType}`),
        h(
          'div',
          { class: 'row' },
          h('label', { class: 'check' }, active, 'Active'),
          h('label', { class: 'field' }, 'Dealer id field', dealerIdField),
        ),
        h('label', { class: 'field' }, 'Dealer map (partner dealer id → our dealer UUID, JSON)', dealerMap),
        h('label', { class: 'field' }, 'JSONata transform (raw body → canonical record)', transform),
        h('label', { class: 'field' }, 'JSON Schema of the raw body (JSON)', schema),
        formError,
        h('div', { class: 'row' }, saveButton, saveState),
      ),
      h(
        'section',
        { class: 'panel' },
        h('h2', {}, 'Live preview'),
        h('label', { class: 'field' }, 'Run against', sample),
        pasted,
        h('p', { class: 'small muted' }, 'A dry run: nothing is stored or changed until you save.'),
        preview,
      ),
    ),
  ];
}

export async function render(ctx) {
  const subscriber = ctx.params.get('subscriber') ?? '';
  const eventType = ctx.params.get('eventType') || EVENT_TYPES[0];
  if (subscriber === '') return integrationList(ctx);
  const body = await editor(ctx, subscriber, eventType);
  ctx.mount(h('a', { class: 'back', href: '#/integrations' }, '← Integrations'), h('h1', {}, 'Edit integration'), ...body);
}
