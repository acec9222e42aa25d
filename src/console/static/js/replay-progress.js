// A replay job's progress (POST /admin/v1/replays answered 202 with the job): polled every
// second until it is DONE or FAILED.
import { admin, segment } from './api.js';
import { h, replace } from './dom.js';
import { count } from './format.js';

const POLL_MS = 1000;

function describe(job) {
  const done = `${count(job.replayed)} of ${count(job.total)} matching events replayed`;
  if (job.status === 'RUNNING') return `${done}…`;
  if (job.status === 'FAILED') return `${done}; the job failed: ${job.error ?? 'unknown error'}`;
  return `${done}. They are back in the queue (RECEIVED); the worker processes them within seconds.`;
}

/** A notice that follows the job; onFinished(job) once it is no longer running. */
export function replayProgress(job, { signal, onFinished }) {
  const bar = h('progress', { max: Math.max(1, job.total), value: job.replayed });
  const text = h('span', {}, describe(job));
  const box = h(
    'div',
    { class: 'notice info', role: 'status', id: 'replay-progress' },
    h('strong', {}, 'Replay all matching: '),
    text,
    ' ',
    bar,
  );

  const show = (current) => {
    bar.max = Math.max(1, current.total);
    bar.value = current.replayed;
    replace(text, describe(current));
    if (current.status !== 'RUNNING') {
      box.className = `notice ${current.status === 'DONE' ? 'ok' : 'error'}`;
      box.dataset.status = current.status;
      onFinished?.(current);
      return true;
    }
    return false;
  };

  if (!show(job)) {
    const timer = setInterval(async () => {
      try {
        if (show(await admin.get(`/replays/${segment(job.id)}`, { signal }))) clearInterval(timer);
      } catch (err) {
        if (err.name === 'AbortError') return;
        clearInterval(timer);
        replace(text, `Could not follow the job: ${err.message}`);
      }
    }, POLL_MS);
    signal.addEventListener('abort', () => clearInterval(timer));
  }
  return box;
}
