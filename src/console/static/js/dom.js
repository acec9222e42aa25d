// Building the page with DOM APIs only. Text always goes in as text nodes (textContent), never
// as markup: whatever a partner sent, `<script>` included, is shown, not run. There is no way to
// pass HTML through h(): innerHTML, inline event handlers and style attributes are refused, and
// an href must be a route of the console (external links: links.js).

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open']);
const REFUSED = new Set(['innerhtml', 'outerhtml', 'srcdoc', 'style']);

function setProp(el, key, value) {
  if (value === undefined || value === null || value === false) return;
  const lower = key.toLowerCase();
  if (REFUSED.has(lower) || lower.startsWith('on')) throw new Error(`h(): "${key}" is not allowed`);
  if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : String(value));
  else if (key === 'events') for (const [type, handler] of Object.entries(value)) el.addEventListener(type, handler);
  else if (key === 'dataset') Object.assign(el.dataset, value);
  else if (key === 'href') el.setAttribute('href', routeHref(value));
  else if (PROPERTIES.has(key)) el[key] = value;
  else el.setAttribute(key, value === true ? '' : String(value));
}

/** An href into the console itself (`#/…`); anything else is a programming error. */
function routeHref(value) {
  const href = String(value);
  if (!href.startsWith('#/')) throw new Error(`h(): href must be a console route, got ${href}`);
  return href;
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** h('tr', { class: 'link', events: { click } }, h('td', {}, text), …) */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) setProp(el, key, value);
  return append(el, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; attributes are set one by one (numbers and class names only, no markup). */
export function svg(tag, attributes = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key.toLowerCase().startsWith('on') || key === 'style' || key === 'href') throw new Error(`svg(): "${key}" is not allowed`);
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  return append(el, children);
}

/** Replaces everything inside `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const notice = (kind, ...text) => h('div', { class: ['notice', kind], role: kind === 'error' ? 'alert' : 'status' }, ...text);

export const badge = (status) => h('span', { class: ['badge', status] }, status);

/** Calls fn after `ms` without another call (typing in a field). */
export function debounce(fn, ms) {
  let timer;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}
