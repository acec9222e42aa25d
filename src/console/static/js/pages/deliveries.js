// Deliveries (#/deliveries): where outcomes are sent. Each destination of GET
// /admin/v1/destinations — a webhook's URL, a pull feed, an email destination's recipients; ADF
// ones marked — with its health — state, failures in a row, last success, messages waiting and
// failed, the oldest waiting — and its actions: a test send (its answer shown, an HTTP status or
// an SMTP reply), edit (in the form below), enable or disable, rotate the secret (confirmed; the
// new one shown once), send again what failed since a time, delete (confirmed). Below, the form
// that creates one, or replaces one being edited (PUT; its name and kind stay): kind, format
// (json or adf-xml, forced for email and pull), URL or recipients; the generated secret is shown
// once, the service's refusal inline. Health is read again every 10 s, and after each action;
// the rows are updated in place, so a focused button keeps its focus.
import { admin, query, segment } from '../api.js';
import { ADF_TYPES, healthBadge, OUTBOUND_TYPES, replyBadge, secretBox } from '../delivery.js';
import { h, notice, replace } from '../dom.js';
import { age, clockTime, count, dateTime } from '../format.js';

const REFRESH_MS = 10_000;
const COLUMNS = ['Destination', 'Health', 'Failures in a row', 'Last success', 'Waiting', 'Failed', 'Oldest waiting', 'Actions'];
const FORM_FIELDS = ['name', 'kind', 'url', 'format', 'to', 'eventTypes', 'dealers', 'ordering', 'retrySchedule'];
/** The format a kind must have (email sends ADF documents, a pull feed the JSON envelope); a webhook chooses. */
const FORCED_FORMAT = { email: 'adf-xml', pull: 'json' };
const FORMAT_HINTS = {
  webhook: 'json: the envelope {type, timestamp, data}; adf-xml: each lead as an ADF 1.0 document, what dealer CRMs read',
  email: 'an email destination mails each lead as an ADF 1.0 document',
  pull: 'a pull feed carries the JSON envelope',
};

const messagesHref = (params) => `#/deliveries/messages${query(params)}`;
const plural = (n, one, many = `${one}s`) => `${count(n)} ${n === 1 ? one : many}`;

/** "2026-11-22T08:15" for an <input type="datetime-local">, local time. */
function localInputValue(ms) {
  const d = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** The fields of the form the service names in its refusal: "to: required …; url: …", "Field 'to[0]' must …". */
function fieldsNamed(message) {
  return FORM_FIELDS.filter((f) => new RegExp(`(^|; )${f}:|'${f}[.\\['/]`).test(message));
}

/** Recipients typed separated by commas, semicolons, spaces or lines, once each. */
function addresses(text) {
  return [...new Set(text.split(/[\s,;]+/).filter((a) => a !== ''))];
}

/** Where a destination's messages go: its URL, its feed, or its recipients. */
function targetOf(d) {
  if (d.kind === 'pull') return `pull feed: GET /feeds/v1/${d.name}`;
  if (d.kind === 'email') return `email → ${(d.to ?? []).join(', ')}`;
  return d.url;
}

function describeSchedule(schedule) {
  if (schedule === null || schedule === undefined) return 'default schedule';
  // One attempt per entry, each the wait in seconds before it.
  return `${plural(schedule.length, 'attempt')} (${schedule.join(', ')} s)`;
}

function destinationCell(d) {
  return [
    h(
      'div',
      { class: 'primary' },
      h('span', { class: 'dest-name' }, d.name),
      d.format === 'adf-xml'
        ? h(
            'span',
            { class: 'format-tag', dataset: { format: d.format }, title: 'Each lead as an ADF 1.0 document (application/xml)' },
            'ADF/XML',
          )
        : null,
    ),
    h('div', { class: 'mono small muted dest-url' }, targetOf(d)),
    h(
      'div',
      { class: 'tags' },
      d.eventTypes.map((t) => h('span', { class: 'type-tag' }, t)),
    ),
    h(
      'div',
      { class: 'small muted' },
      [
        d.dealers === '*' ? 'every dealer' : `dealers ${d.dealers.join(', ')}`,
        d.ordering === 'per-dealer' ? 'ordered per dealer' : 'no ordering',
        describeSchedule(d.retrySchedule),
        d.rateLimit ? `≤ ${d.rateLimit}/s` : null,
      ]
        .filter(Boolean)
        .join(' · '),
    ),
  ];
}

function healthCell(d) {
  const { health } = d;
  return [
    healthBadge(health.state),
    health.state === 'breaker-open' && health.breakerOpenUntil
      ? h('div', { class: 'small muted' }, `probing again at ${clockTime(health.breakerOpenUntil)}`)
      : null,
    d.disabledReason ? h('div', { class: 'small muted disabled-reason' }, d.disabledReason) : null,
    d.previousSecretUntil && Date.parse(d.previousSecretUntil) > Date.now()
      ? h('div', { class: 'small muted' }, `old secret signs too until ${dateTime(d.previousSecretUntil)}`)
      : null,
  ];
}

/** A count that opens the matching messages when there are any. */
function countLink(n, params, cls) {
  if (n === 0) return h('span', { class: 'muted' }, '0');
  return h('a', { class: cls, href: messagesHref(params) }, count(n));
}

function oldestCell(iso) {
  if (iso === null) return h('span', { class: 'muted' }, '—');
  return h('span', { title: dateTime(iso) }, `${age((Date.now() - Date.parse(iso)) / 1000)} ago`);
}

/** The table's body of one destination: its row, and under it a row for what its actions answer. */
function destinationGroup(d, actions) {
  const cells = {
    destination: h('td', { class: 'destination' }),
    health: h('td', { class: 'health' }),
    streak: h('td', { class: 'streak' }),
    success: h('td', { class: 'nowrap success' }),
    waiting: h('td', { class: 'waiting' }),
    failed: h('td', { class: 'failed' }),
    oldest: h('td', { class: 'nowrap oldest' }),
  };
  const actionsCell = h('td', { class: 'actions' });
  const main = h('tr', { class: 'main' }, Object.values(cells), actionsCell);
  const output = h('div', { class: 'output' });
  const outputRow = h('tr', { class: 'output-row', hidden: true }, h('td', { colspan: COLUMNS.length }, output));
  const tbody = h('tbody', { dataset: { destination: d.name } }, main, outputRow);

  const group = {
    tbody,
    /** Shows `children` under the row (nothing: hides the row). */
    say(...children) {
      replace(output, ...children);
      outputRow.hidden = output.childNodes.length === 0;
    },
    update(dest) {
      group.current = dest;
      const { health } = dest;
      tbody.dataset.state = health.state;
      // A cell is drawn again only when what it shows has changed (a focused link keeps its focus).
      const put = (cell, key, draw) => {
        const text = JSON.stringify(key);
        if (cell.dataset.shown === text) return;
        cell.dataset.shown = text;
        replace(cell, draw());
      };
      const { name, kind, url, format, to, eventTypes, dealers, ordering, retrySchedule, rateLimit } = dest;
      put(cells.destination, [name, kind, url, format, to, eventTypes, dealers, ordering, retrySchedule, rateLimit], () =>
        destinationCell(dest),
      );
      put(cells.health, [health.state, health.breakerOpenUntil, dest.disabledReason, dest.previousSecretUntil], () => healthCell(dest));
      put(cells.streak, health.failureStreak, () =>
        health.failureStreak === 0 ? h('span', { class: 'muted' }, '0') : count(health.failureStreak),
      );
      put(cells.success, [health.lastSuccessAt, health.lastFailureAt], () => [
        dateTime(health.lastSuccessAt),
        health.lastFailureAt ? h('div', { class: 'small muted' }, `last failure ${dateTime(health.lastFailureAt)}`) : null,
      ]);
      put(cells.waiting, health.waiting, () => countLink(health.waiting, { destination: name, status: 'PENDING' }));
      put(cells.failed, health.failed, () => countLink(health.failed, { destination: name, status: 'FAILED' }, 'failed-count'));
      const oldest = oldestCell(health.oldestWaitingAt);
      put(cells.oldest, [health.oldestWaitingAt, oldest.textContent], () => oldest);
      actions.update(dest);
    },
  };
  replace(actionsCell, actions.build(group));
  group.update(d);
  return group;
}

function testResult(result, kind) {
  const what = result.delivered ? 'Delivered' : 'Not delivered';
  return h(
    'div',
    {
      class: ['notice', result.delivered ? 'ok' : 'error', 'test-result'],
      role: result.delivered ? 'status' : 'alert',
      dataset: { delivered: String(result.delivered) },
    },
    h('strong', {}, `Test send: ${what}`),
    ' ',
    result.statusCode === null ? null : replyBadge(result.statusCode, kind),
    ` in ${count(result.durationMs)} ms`,
    result.error ? h('div', {}, result.error) : null,
    result.responseBody
      ? [
          h('div', { class: 'small' }, kind === 'email' ? 'The mail server answered:' : 'The receiver answered:'),
          h('pre', { class: 'text-block' }, result.responseBody),
        ]
      : null,
  );
}

/** A confirmation under the row: `onConfirm` runs on the first button; Cancel puts focus back. */
function confirmBox(group, origin, { text, action, cls = 'danger', onConfirm }) {
  const yes = h('button', { type: 'button', class: ['button', cls], dataset: { confirm: 'yes' } }, action);
  const cancel = h('button', { type: 'button', class: 'button secondary' }, 'Cancel');
  cancel.addEventListener('click', () => {
    group.say();
    origin.focus();
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    cancel.disabled = true;
    await onConfirm();
  });
  group.say(notice('warn', text, ' ', h('span', { class: 'row inline' }, yes, cancel)));
  yes.focus();
}

export async function render(ctx) {
  const { signal } = ctx;
  const groups = new Map();
  const table = h(
    'table',
    { class: 'data', id: 'destinations' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        COLUMNS.map((t) => h('th', {}, t)),
      ),
    ),
  );
  const tableWrap = h('div', { class: 'table-wrap' }, table);
  const empty = h(
    'div',
    { class: 'empty panel', hidden: true },
    'No destination yet: create one below, or list them in the provisioning file (apply).',
  );
  const feedback = h('div');
  const asOf = h('span', { class: 'small muted', id: 'health-as-of' });

  const failed = (what, err) => {
    if (err.name !== 'AbortError') return notice('error', `${what}: ${err.message}`);
    return null;
  };

  // ---- the actions of one destination ----
  const actionsFor = () => {
    const button = (label, action, cls = 'secondary') =>
      h('button', { type: 'button', class: ['button', 'small', cls], dataset: { action } }, label);
    const test = button('Test send', 'test');
    const edit = button('Edit…', 'edit');
    const toggle = button('Disable', 'disable');
    const rotate = button('Rotate secret…', 'rotate');
    const recover = button('Recover since…', 'recover');
    const remove = button('Delete…', 'delete', 'danger');
    const messages = h('a', { class: 'small', href: '#/deliveries/messages' }, 'Messages');
    let group;
    const base = () => `/destinations/${segment(group.current.name)}`;

    test.addEventListener('click', async () => {
      test.disabled = true;
      const { kind } = group.current;
      group.say(h('p', { class: 'muted small' }, kind === 'email' ? 'Mailing a test lead…' : 'Sending a signed test message…'));
      try {
        group.say(testResult(await admin.post(`${base()}/test`, {}, { signal }), kind));
        await refresh();
      } catch (err) {
        group.say(failed('Test send failed', err));
      } finally {
        test.disabled = false;
      }
    });

    edit.addEventListener('click', () => editor.start(group.current));

    toggle.addEventListener('click', async () => {
      const enable = !group.current.enabled;
      toggle.disabled = true;
      try {
        group.update(await admin.post(`${base()}/${enable ? 'enable' : 'disable'}`, {}, { signal }));
        group.say(
          notice(
            'ok',
            enable
              ? 'Enabled: its waiting messages are sent, its health starts afresh.'
              : 'Disabled: its messages wait, new ones too, until it is enabled again.',
          ),
        );
      } catch (err) {
        group.say(failed(enable ? 'Not enabled' : 'Not disabled', err));
      } finally {
        toggle.disabled = false;
      }
    });

    rotate.addEventListener('click', () =>
      confirmBox(group, rotate, {
        text: `Rotate the signing secret of ${group.current.name}? The new secret signs at once; the current one keeps signing for a while (DELIVERY_SECRET_OVERLAP_HOURS), so the receiver can switch.`,
        action: 'Rotate it',
        cls: null,
        onConfirm: async () => {
          try {
            const rotated = await admin.post(`${base()}/rotate-secret`, {}, { signal });
            group.update(rotated);
            group.say(
              secretBox(
                `New signing secret of ${rotated.name}`,
                rotated.secret,
                rotated.previousSecretUntil ? `The previous secret also signs until ${dateTime(rotated.previousSecretUntil)}.` : null,
              ),
            );
          } catch (err) {
            group.say(failed('Not rotated', err));
          }
        },
      }),
    );

    recover.addEventListener('click', () => {
      const since = h('input', {
        type: 'datetime-local',
        name: 'since',
        required: true,
        value: localInputValue(Date.now() - 24 * 3_600_000),
      });
      const submit = h('button', { type: 'submit', class: 'button' }, 'Send them again');
      const cancel = h('button', { type: 'button', class: 'button secondary' }, 'Cancel');
      cancel.addEventListener('click', () => {
        group.say();
        recover.focus();
      });
      const problem = h('div');
      const form = h(
        'form',
        { class: 'filters recover-form' },
        h('label', { class: 'field' }, `Send again the FAILED messages of ${group.current.name} created since`, since),
        submit,
        cancel,
      );
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const when = new Date(since.value);
        if (since.value === '' || Number.isNaN(when.getTime())) {
          since.classList.add('invalid');
          since.focus();
          return;
        }
        submit.disabled = true;
        try {
          const { retried } = await admin.post(`${base()}/recover`, { since: when.toISOString() }, { signal });
          group.say(
            notice(
              'ok',
              retried === 0
                ? `No FAILED message created since ${dateTime(when)}.`
                : `${plural(retried, 'failed message')} sent again: PENDING now, on a fresh schedule.`,
            ),
          );
          await refresh();
        } catch (err) {
          submit.disabled = false;
          replace(problem, failed('Not recovered', err));
        }
      });
      group.say(form, problem);
      since.focus();
    });

    remove.addEventListener('click', () => {
      const { name, health } = group.current;
      confirmBox(group, remove, {
        text: `Delete ${name} and all its messages (${count(health.waiting)} waiting, ${count(health.failed)} failed)? This cannot be undone.`,
        action: 'Delete it',
        onConfirm: async () => {
          try {
            await admin.delete(base(), { signal });
          } catch (err) {
            group.say(failed('Not deleted', err));
            return;
          }
          group.tbody.remove();
          groups.delete(name);
          replace(feedback, notice('ok', `Deleted ${name}.`));
          await refresh().catch((err) => replace(feedback, notice('ok', `Deleted ${name}.`), failed('Refreshing the list failed', err)));
        },
      });
    });

    return {
      build(g) {
        group = g;
        return h('div', { class: 'row actions-row' }, test, edit, toggle, rotate, recover, remove, messages);
      },
      update(d) {
        // An email destination signs nothing: it has no secret worth rotating.
        rotate.hidden = d.kind === 'email';
        replace(toggle, d.enabled ? 'Disable' : 'Enable');
        toggle.dataset.action = d.enabled ? 'disable' : 'enable';
        messages.setAttribute('href', messagesHref({ destination: d.name }));
      },
    };
  };

  /** Draws the list anew from the service, updating rows in place. */
  const show = (items) => {
    const names = new Set(items.map((d) => d.name));
    for (const [name, group] of groups) {
      if (!names.has(name)) {
        group.tbody.remove();
        groups.delete(name);
      }
    }
    const fresh = [];
    for (const d of items) {
      const group = groups.get(d.name);
      if (group) group.update(d);
      else {
        const created = destinationGroup(d, actionsFor());
        groups.set(d.name, created);
        fresh.push(created);
      }
    }
    // The service lists them by name; a new one goes into its place (the others are not moved,
    // which would take the focus away from a button).
    for (const created of fresh) {
      const index = items.findIndex((d) => d.name === created.current.name);
      const next = items.slice(index + 1).find((d) => groups.get(d.name)?.tbody.isConnected);
      if (next) table.insertBefore(created.tbody, groups.get(next.name).tbody);
      else table.append(created.tbody);
    }
    tableWrap.hidden = items.length === 0;
    empty.hidden = items.length > 0;
    replace(asOf, `Health as of ${clockTime(Date.now())}`);
    return fresh;
  };

  const refresh = async () => show((await admin.get('/destinations', { signal })).items);

  // ---- the form that creates one, or replaces the one being edited ----
  const field = (name, props) => h('input', { name, autocomplete: 'off', spellcheck: 'false', ...props });
  const inputs = {
    name: field('name', { type: 'text', id: 'destination-name', size: 24, placeholder: 'crm' }),
    url: field('url', { type: 'url', id: 'destination-url', size: 48, placeholder: 'https://receiver.example.com/hooks' }),
    to: h('textarea', {
      name: 'to',
      id: 'destination-to',
      rows: 2,
      autocomplete: 'off',
      spellcheck: 'false',
      placeholder: 'leads@crm.example.com, backup@dealer.example.com',
    }),
    dealers: field('dealers', { type: 'text', id: 'destination-dealers', size: 24, value: '*' }),
    retrySchedule: field('retrySchedule', { type: 'text', id: 'destination-retry', size: 24, placeholder: 'default' }),
    kind: h(
      'select',
      { name: 'kind', id: 'destination-kind' },
      h('option', { value: 'webhook' }, 'webhook: POSTed to a URL'),
      h('option', { value: 'pull' }, 'pull: read from its feed with a token'),
      h('option', { value: 'email' }, 'email: mailed to CRM inboxes (ADF)'),
    ),
    format: h(
      'select',
      { name: 'format', id: 'destination-format' },
      h('option', { value: 'json' }, 'json: the JSON envelope'),
      h('option', { value: 'adf-xml' }, 'adf-xml: ADF 1.0 documents (leads)'),
    ),
    ordering: h(
      'select',
      { name: 'ordering', id: 'destination-ordering' },
      h('option', { value: 'none' }, 'none: as they come'),
      h('option', { value: 'per-dealer' }, 'per-dealer: in commit order per dealer'),
    ),
  };
  const typeBoxes = OUTBOUND_TYPES.map((type) => h('input', { type: 'checkbox', name: 'eventTypes', value: type }));
  const typesHint = h('span', { class: 'hint', hidden: true }, 'adf-xml carries leads only (lead.created, lead.updated)');
  const eventTypes = h(
    'fieldset',
    { class: 'checks', id: 'destination-types' },
    h('legend', {}, 'Event types'),
    typeBoxes.map((box) => h('label', { class: 'check' }, box, h('span', { class: 'mono' }, box.value))),
    typesHint,
  );
  const formFeedback = h('div', { id: 'destination-form-feedback' });
  const hint = (text) => h('span', { class: 'hint' }, text);
  const urlField = h(
    'label',
    { class: 'field wide' },
    'URL',
    inputs.url,
    hint('https:// (or http://) where each message is POSTed, signed'),
  );
  const toField = h(
    'label',
    { class: 'field wide', hidden: true },
    'To',
    inputs.to,
    hint('the lead-intake addresses (e.g. the CRM’s ADF inbox), separated by commas or lines; 1 to 20'),
  );
  const formatHint = hint(FORMAT_HINTS.webhook);
  const formTitle = h('h2', {}, 'New destination');
  const create = h('button', { type: 'submit', class: 'button', id: 'create-destination' }, 'Create destination');
  const cancelEdit = h('button', { type: 'button', class: 'button secondary', id: 'cancel-edit', hidden: true }, 'Cancel');
  const fieldElements = { ...inputs, eventTypes };
  const markInvalid = (names) => {
    for (const [name, el] of Object.entries(fieldElements)) el.classList.toggle('invalid', names.includes(name));
  };

  /** The format a webhook was given, back when the kind returns to webhook. */
  let webhookFormat = 'json';
  /** The fields a kind and a format have: a URL for a webhook, recipients for email, lead types for adf-xml. */
  const syncForm = () => {
    const kind = inputs.kind.value;
    // A pull destination has no URL (its consumer reads GET /feeds/v1/{name} with the feed token);
    // an email one has recipients instead.
    urlField.hidden = kind !== 'webhook';
    toField.hidden = kind !== 'email';
    const forced = FORCED_FORMAT[kind];
    inputs.format.value = forced ?? webhookFormat;
    inputs.format.disabled = forced !== undefined;
    replace(formatHint, FORMAT_HINTS[kind] ?? FORMAT_HINTS.webhook);
    const adf = inputs.format.value === 'adf-xml';
    for (const box of typeBoxes) {
      box.disabled = adf && !ADF_TYPES.includes(box.value);
      if (box.disabled) box.checked = false;
    }
    typesHint.hidden = !adf;
  };
  inputs.kind.addEventListener('change', syncForm);
  inputs.format.addEventListener('change', () => {
    if (FORCED_FORMAT[inputs.kind.value] === undefined) webhookFormat = inputs.format.value;
    syncForm();
  });

  /** The destination being edited (the form replaces it), or null (the form creates one). */
  let editing = null;
  const editor = {
    /** Fills the form with `d`: saving replaces it. Its name and kind cannot change. */
    start(d) {
      editing = d;
      markInvalid([]);
      replace(formFeedback);
      inputs.name.value = d.name;
      inputs.name.disabled = true;
      inputs.kind.value = d.kind;
      inputs.kind.disabled = true;
      if (d.kind === 'webhook') webhookFormat = d.format;
      inputs.url.value = d.url ?? '';
      inputs.to.value = (d.to ?? []).join(', ');
      syncForm();
      for (const box of typeBoxes) box.checked = d.eventTypes.includes(box.value);
      inputs.dealers.value = d.dealers === '*' ? '*' : d.dealers.join(', ');
      inputs.ordering.value = d.ordering;
      inputs.retrySchedule.value = d.retrySchedule === null ? '' : d.retrySchedule.join(', ');
      replace(formTitle, `Edit destination ${d.name}`);
      replace(create, 'Save changes');
      cancelEdit.hidden = false;
      form.dataset.editing = d.name;
      form.scrollIntoView({ block: 'start' });
      (({ webhook: inputs.url, email: inputs.to })[d.kind] ?? inputs.dealers).focus();
    },
    /** Back to an empty form that creates a destination. */
    stop() {
      editing = null;
      form.reset();
      webhookFormat = 'json';
      inputs.name.disabled = false;
      inputs.kind.disabled = false;
      inputs.dealers.value = '*';
      syncForm();
      replace(formTitle, 'New destination');
      replace(create, 'Create destination');
      cancelEdit.hidden = true;
      delete form.dataset.editing;
    },
  };
  cancelEdit.addEventListener('click', () => {
    const name = editing?.name;
    editor.stop();
    markInvalid([]);
    replace(formFeedback);
    if (name) groups.get(name)?.tbody.querySelector('button[data-action="edit"]')?.focus();
  });

  /** The form's values as the API's body; throws a readable error. */
  const body = () => {
    // A webhook always sends what was typed (the service names what is wrong); pull and email have no url.
    const kind = inputs.kind.value;
    const out = editing === null ? { name: inputs.name.value.trim(), kind } : { kind };
    if (kind === 'webhook') out.url = inputs.url.value.trim();
    out.format = inputs.format.value;
    if (kind === 'email') {
      out.to = addresses(inputs.to.value);
      if (out.to.length === 0) {
        throw Object.assign(new Error('To: at least one address, e.g. leads@crm.example.com (several: separated by commas).'), {
          field: 'to',
        });
      }
    }
    out.eventTypes = typeBoxes.filter((b) => b.checked && !b.disabled).map((b) => b.value);
    if (out.eventTypes.length === 0) throw Object.assign(new Error('Choose at least one event type.'), { field: 'eventTypes' });
    const dealers = inputs.dealers.value.trim();
    if (dealers === '' || dealers === '*') out.dealers = '*';
    else {
      out.dealers = [...new Set(dealers.split(',').map((d) => d.trim()))].filter((d) => d !== '');
      if (out.dealers.includes('*')) {
        throw Object.assign(new Error('Dealers: * alone (every dealer), or a comma-separated list of dealer UUIDs.'), { field: 'dealers' });
      }
    }
    out.ordering = inputs.ordering.value;
    const schedule = inputs.retrySchedule.value.trim();
    if (schedule !== '') {
      const parts = schedule.split(/[\s,]+/).filter((p) => p !== '');
      if (!parts.every((p) => /^\d{1,7}$/.test(p))) {
        throw Object.assign(new Error('Retry schedule: whole seconds separated by commas, e.g. 0, 60, 600.'), { field: 'retrySchedule' });
      }
      out.retrySchedule = parts.map(Number);
    } else if (editing !== null) out.retrySchedule = null;
    // What the form does not show stays as it is (PUT replaces the whole destination).
    if (editing !== null) out.rateLimit = editing.rateLimit;
    return out;
  };

  const form = h(
    'form',
    { class: 'panel destination-form', id: 'destination-form', novalidate: true },
    formTitle,
    h(
      'div',
      { class: 'form-grid' },
      h('label', { class: 'field' }, 'Name', inputs.name, hint('lower-case letters, digits, . _ -')),
      h('label', { class: 'field' }, 'Kind', inputs.kind),
      h('label', { class: 'field' }, 'Format', inputs.format, formatHint),
      urlField,
      toField,
      eventTypes,
      h('label', { class: 'field' }, 'Dealers', inputs.dealers, hint('* for every dealer, or dealer UUIDs separated by commas')),
      h('label', { class: 'field' }, 'Ordering', inputs.ordering),
      h(
        'label',
        { class: 'field' },
        'Retry schedule (optional)',
        inputs.retrySchedule,
        hint('seconds to wait before each attempt, one attempt per entry, e.g. 0, 60, 600'),
      ),
    ),
    formFeedback,
    h('div', { class: 'row' }, create, cancelEdit),
  );
  for (const el of [...Object.values(inputs), ...typeBoxes])
    el.addEventListener('input', () => el.closest('.invalid, fieldset')?.classList.remove('invalid'));

  /** What creating `created` says: its secret (and feed token) once; an email destination signs nothing. */
  const createdBox = (created) =>
    h(
      'div',
      { id: 'destination-created' },
      created.kind === 'email'
        ? notice(
            'ok',
            h('strong', {}, `Destination ${created.name} created.`),
            ` Each lead is mailed to ${(created.to ?? []).join(', ')} as an ADF document, through the service’s SMTP server (SMTP_URL).`,
          )
        : secretBox(`Destination ${created.name} created. Its signing secret:`, created.secret),
      created.feedToken ? secretBox(`Its feed token (GET /feeds/v1/${created.name}, Authorization: Bearer …):`, created.feedToken) : null,
    );

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    markInvalid([]);
    let value;
    try {
      value = body();
    } catch (err) {
      markInvalid([err.field]);
      replace(formFeedback, notice('error', err.message));
      return;
    }
    const replacing = editing;
    create.disabled = true;
    replace(formFeedback, h('p', { class: 'muted small' }, replacing ? 'Saving…' : 'Creating…'));
    try {
      if (replacing) {
        const saved = await admin.put(`/destinations/${segment(replacing.name)}`, value, { signal });
        editor.stop();
        replace(formFeedback, notice('ok', h('span', { id: 'destination-saved' }, `Destination ${saved.name} saved.`)));
        groups.get(saved.name)?.update(saved);
        await refresh();
        groups.get(saved.name)?.tbody.classList.add('fresh');
        return;
      }
      const created = await admin.post('/destinations', value, { signal });
      editor.stop();
      replace(formFeedback, createdBox(created));
      for (const group of show((await admin.get('/destinations', { signal })).items)) group.tbody.classList.add('fresh');
    } catch (err) {
      if (err.name === 'AbortError') return;
      // The service names the field it refuses ("url: …", "Field 'name' must match …").
      markInvalid(err.code === 'CONFLICT' && !replacing ? ['name'] : fieldsNamed(err.message));
      replace(formFeedback, notice('error', `${replacing ? 'Not saved' : 'Not created'}: ${err.message}`));
    } finally {
      create.disabled = false;
    }
  });

  // ---- the page ----
  let items;
  try {
    items = (await admin.get('/destinations', { signal })).items;
  } catch (err) {
    if (!err.routeMissing) throw err;
    ctx.mount(h('h1', {}, 'Deliveries'), notice('warn', 'This server has no delivery routes (GET /admin/v1/destinations).'));
    return;
  }
  ctx.mount(
    h('h1', {}, 'Deliveries'),
    h(
      'p',
      { class: 'muted' },
      'Where outcomes are sent: each destination with its health and its actions. A signing secret is shown once, when it is created or rotated.',
    ),
    h(
      'div',
      { class: 'toolbar' },
      h('a', { class: 'button secondary', href: '#/deliveries/messages', id: 'open-messages' }, 'Messages'),
      h('a', { class: 'button secondary', href: messagesHref({ status: 'FAILED' }) }, 'Failed messages'),
      h('span', { class: 'spacer' }),
      asOf,
    ),
    feedback,
    tableWrap,
    empty,
    form,
  );
  show(items);

  const timer = setInterval(async () => {
    try {
      await refresh();
    } catch (err) {
      if (err.name !== 'AbortError') replace(feedback, notice('error', `Refreshing the health failed: ${err.message}`));
    }
  }, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
}
