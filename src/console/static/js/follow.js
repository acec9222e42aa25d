// Following a record that is still changing (an event RECEIVED, a message PENDING): its detail
// page loads it again every 2 s while it is, and stops when it settles or the page is left.
import { notice, replace } from './dom.js';

const FOLLOW_MS = 2000;

/**
 * `follow(still)` after each render: while `still` is true, `load` again in FOLLOW_MS and `show`
 * the result; a failed reload is reported in `feedback`. Leaving the page (`signal`) stops it.
 */
export function follower(signal, load, show, feedback) {
  let timer = null;
  signal.addEventListener('abort', () => clearTimeout(timer));
  return (still) => {
    clearTimeout(timer);
    if (!still) return;
    timer = setTimeout(async () => {
      try {
        show(await load());
      } catch (err) {
        if (err.name !== 'AbortError') replace(feedback, notice('error', `Refreshing failed: ${err.message}`));
      }
    }, FOLLOW_MS);
  };
}
