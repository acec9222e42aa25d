// Links to what partners sent (media URLs): a live link only for http and https. Anything else —
// javascript:, data:, a relative path, not a URL at all — is shown as text and never becomes an
// href, so a hostile URL can neither run script nor point the console at itself.
import { h } from './dom.js';

/** The normalized URL when `value` is an absolute http(s) URL; null otherwise. */
export function httpUrl(value) {
  if (typeof value !== 'string') return null;
  let url;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null;
}

export function externalLink(value, label) {
  const href = httpUrl(value);
  if (href === null) {
    return h('span', { class: 'unsafe-url', title: 'Not an http(s) URL: shown as text, not as a link' }, String(value ?? ''));
  }
  const link = document.createElement('a');
  link.href = href;
  link.rel = 'noopener noreferrer';
  link.target = '_blank';
  link.textContent = label ?? href;
  return link;
}
