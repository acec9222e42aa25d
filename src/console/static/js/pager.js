// Lists the admin API returns a page at a time (`items`, `nextCursor`): `load()` fetches the next
// page and appends its items, drawn, to `container`; `more` is the "Load more" button, hidden once
// there is no next page. A failed "Load more" is shown by `onMoreError`; a failed `load()` called
// by the page itself rejects, for the page to show.
import { admin } from './api.js';
import { h } from './dom.js';

export function pager(ctx, { url, container, draw, onMoreError }) {
  const more = h('button', { type: 'button', class: 'button secondary', hidden: true }, 'Load more');
  let cursor;
  const load = async () => {
    const page = await admin.get(url(cursor), { signal: ctx.signal });
    container.append(...page.items.map(draw));
    cursor = page.nextCursor;
    more.hidden = cursor === null;
    return page;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      await load();
    } catch (err) {
      if (err.name !== 'AbortError') onMoreError(err);
    } finally {
      more.disabled = false;
    }
  });
  return { more, load };
}
