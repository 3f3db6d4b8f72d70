// A list longer than a page: its first pages, walked by cursor (no row skipped or shown twice
// while cases come in), and a button for the next one. The lists showed their first page
// alone and said nothing of the rest: past 100 cases a unit's older ones were out of reach,
// and past 200 waiting cases the queue (newest first) hid those waiting longest.
import { get, query } from "./api.js";
import { h } from "./dom.js";
import { t } from "./i18n.js";

// The items of the first ``pages`` pages of ``path`` (``params`` its filter), and whether
// more follow.
export async function firstPages(path, params, pages) {
  const items = [];
  let cursor = null;
  for (let page = 0; page < pages; page += 1) {
    const answer = await get(`${path}${query({ ...params, cursor })}`);
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) return { items, more: false };
  }
  return { items, more: true };
}

// The button that shows one more page (``showMore``, which loads it and draws the list
// again); hidden while nothing more follows. After it, the focus goes to the first row it
// brought (``firstNew``, given how many rows were shown before): the reader goes on there.
export function moreButton(id, showMore, firstNew) {
  const button = h("button", { type: "button", class: "secondary", id, hidden: true, text: t("more") });
  button.addEventListener("click", async () => {
    const shown = button.dataset.shown === undefined ? 0 : Number(button.dataset.shown);
    button.disabled = true;
    try {
      await showMore();
      firstNew(shown)?.focus();
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

// Says on ``button`` how many rows are shown and whether more follow.
export function offerMore(button, shown, more) {
  button.dataset.shown = String(shown);
  button.hidden = !more;
}
