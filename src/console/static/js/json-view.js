// A JSON document, pretty-printed, one line per element, with the lines of named fields
// highlighted (the fields an error message names). Built from text nodes: a body holding markup
// shows the markup.
import { h } from './dom.js';
import { pretty } from './format.js';

/** Field names quoted in error messages: "Field 'line_items[0].payable' …" → payable, line_items. */
export function fieldsNamed(problems) {
  const names = new Set();
  for (const problem of problems ?? []) {
    const message = String(problem.errorMessage ?? problem.warningMessage ?? '');
    for (const match of message.matchAll(/'([^']{1,200})'/g)) {
      for (const part of match[1].split('.')) {
        const name = part.replace(/\[\d+\]/g, '');
        if (name !== '') names.add(name);
      }
    }
  }
  return names;
}

/** `value`: an object, or JSON text (shown as is when it does not parse). */
export function jsonView(value, highlight = new Set()) {
  let text;
  if (typeof value === 'string') {
    try {
      text = pretty(JSON.parse(value));
    } catch {
      text = value;
    }
  } else {
    text = pretty(value);
  }
  const lines = text.split('\n').map((line) => {
    const key = /^\s*"((?:[^"\\]|\\.)*)":/.exec(line)?.[1];
    return h('span', { class: ['line', key !== undefined && highlight.has(key) ? 'hl' : null] }, line);
  });
  return h('pre', { class: 'json' }, lines);
}
