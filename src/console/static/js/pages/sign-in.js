// Sign in with the admin token. The service answers with an HttpOnly session cookie; asking for
// the session right after tells whether the browser kept it (it drops a Secure cookie on plain
// HTTP anywhere but localhost).
import { request } from '../api.js';
import { h, notice, replace } from '../dom.js';

function explain(err) {
  if (err.code === 'WRONG_CREDENTIAL') return 'That is not the admin token.';
  if (err.code === 'TOO_MANY_REQUESTS') return 'Too many failed attempts from this address. Wait a minute and try again.';
  return err.message;
}

export function render(view, { message, onSignedIn }) {
  const token = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', required: true, spellcheck: 'false' });
  const button = h('button', { type: 'submit', class: 'button' }, 'Sign in');
  const feedback = h('div', {}, message ? notice('info', message) : null);

  async function submit(event) {
    event.preventDefault();
    button.disabled = true;
    replace(feedback);
    try {
      await request('POST', '/console/session', { token: token.value.trim() }, { quiet401: true });
      const session = await request('GET', '/console/session', undefined, { quiet401: true }).catch(() => null);
      if (!session?.signedIn) {
        throw new Error(
          'The token is right, but the browser did not keep the session cookie: open the console over HTTPS, or on localhost / 127.0.0.1.',
        );
      }
      token.value = '';
      onSignedIn(session);
    } catch (err) {
      replace(feedback, notice('error', explain(err)));
      token.focus();
    } finally {
      button.disabled = false;
    }
  }

  replace(
    view,
    h(
      'section',
      { class: 'signin' },
      h(
        'div',
        { class: 'panel' },
        h('h1', {}, 'Operator console'),
        h('p', { class: 'muted' }, 'Sign in with the admin token (ADMIN_TOKEN, or the one printed at the first start).'),
        h(
          'form',
          { events: { submit } },
          h('label', { class: 'field', for: 'token' }, 'Admin token', token),
          feedback,
          h('div', { class: 'row' }, button),
        ),
      ),
    ),
  );
  token.focus();
}
