// The console's shell: checks the session, shows the sign-in page or the page the hash names
// (#/overview, #/events?status=REJECTED, #/events/<requestId>, #/integrations, #/dealers,
// #/deliveries, #/deliveries/messages?status=FAILED, #/deliveries/messages/<id>), and
// gives each page an AbortSignal that fires when the operator leaves it, which stops its
// requests and its polling.
import { request, whenSignedOut } from './api.js';
import { h, notice, replace } from './dom.js';
import { clockTime } from './format.js';
import * as dealers from './pages/dealers.js';
import * as deliveries from './pages/deliveries.js';
import * as eventDetail from './pages/event-detail.js';
import * as events from './pages/events.js';
import * as integrations from './pages/integrations.js';
import * as messageDetail from './pages/message-detail.js';
import * as messages from './pages/messages.js';
import * as overview from './pages/overview.js';
import * as signIn from './pages/sign-in.js';

const ROUTES = [
  { pattern: /^\/overview$/, section: 'overview', page: overview },
  { pattern: /^\/events$/, section: 'events', page: events },
  { pattern: /^\/events\/([^/?]+)$/, section: 'events', page: eventDetail },
  { pattern: /^\/integrations$/, section: 'integrations', page: integrations },
  { pattern: /^\/dealers$/, section: 'dealers', page: dealers },
  { pattern: /^\/deliveries$/, section: 'deliveries', page: deliveries },
  { pattern: /^\/deliveries\/messages$/, section: 'deliveries', page: messages },
  { pattern: /^\/deliveries\/messages\/([^/?]+)$/, section: 'deliveries', page: messageDetail },
];

const view = document.getElementById('view');
const topbar = document.getElementById('topbar');
const expiry = document.getElementById('session-expiry');

let session = null;
let current = null;

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/overview';
  const q = raw.indexOf('?');
  return { path: q < 0 ? raw : raw.slice(0, q), params: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Goes to `path` with the non-empty `params`; renders again when that is where we are. */
export function navigate(path, params = {}) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, value);
  const text = search.toString();
  const hash = `#${path}${text === '' ? '' : `?${text}`}`;
  if (location.hash === hash) render();
  else location.hash = hash;
}

function markSection(section) {
  for (const link of topbar.querySelectorAll('.nav a')) link.classList.toggle('active', link.dataset.section === section);
}

function showSession() {
  topbar.hidden = session === null;
  expiry.textContent = session?.expiresAt ? `Signed in until ${clockTime(session.expiresAt)}` : '';
}

function showSignIn(message) {
  current?.abort();
  current = new AbortController();
  session = null;
  showSession();
  document.title = 'Sign in · dealer-gateway console';
  signIn.render(view, {
    message,
    onSignedIn(newSession) {
      session = newSession;
      showSession();
      render();
    },
  });
}

async function render() {
  if (session === null) return showSignIn();
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { path, params } = parseHash();
  const route = ROUTES.find((r) => r.pattern.test(path));
  if (route === undefined) {
    markSection(null);
    replace(
      view,
      h('h1', {}, 'Not found'),
      notice('error', `There is no console page ${path}. `, h('a', { href: '#/overview' }, 'Open the overview')),
    );
    return;
  }
  markSection(route.section);
  document.title = `${route.section[0].toUpperCase()}${route.section.slice(1)} · dealer-gateway console`;
  replace(view, h('p', { class: 'muted' }, 'Loading…'));
  const ctx = {
    params,
    match: route.pattern.exec(path),
    signal: controller.signal,
    navigate,
    /** Puts the page's content on screen, unless the operator has already left the page. */
    mount: (...children) => {
      if (!controller.signal.aborted) replace(view, ...children);
    },
  };
  try {
    await route.page.render(ctx);
  } catch (err) {
    if (err.name === 'AbortError' || controller.signal.aborted) return;
    ctx.mount(h('h1', {}, 'Something went wrong'), notice('error', err.message));
  }
}

whenSignedOut((err) => {
  if (session !== null) showSignIn(`Your session has ended (${err.message}). Sign in again.`);
});

document.getElementById('sign-out').addEventListener('click', async () => {
  try {
    await request('DELETE', '/console/session', undefined, { quiet401: true });
    showSignIn('You are signed out.');
  } catch (err) {
    replace(view, notice('error', `Signing out failed: ${err.message}`));
  }
});

window.addEventListener('hashchange', () => render());

async function start() {
  try {
    // Signed out is an answer here ({ signedIn: false }), not an error the browser would log.
    const answer = await request('GET', '/console/session', undefined, { quiet401: true });
    session = answer?.signedIn ? answer : null;
  } catch (err) {
    session = null;
    if (err.status !== 401) return showSignIn(err.message);
  }
  showSession();
  render();
}

start();
