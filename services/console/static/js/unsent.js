// Typing not yet sent, kept from being lost by a slip: leaving the page (a reload, closing
// the tab, another page of the console, Back) asks first. Nothing is stored to save it: what
// is typed may be a child's details (``drafts`` keeps it in memory across a redraw only).
import { t } from "./i18n.js";

let typedIn = null; // the form typed into since it was drawn or last sent

// Watches ``form``: typing into it makes it unsent until ``sent``.
export function guard(form) {
  form.addEventListener("input", () => { typedIn = form; });
  form.addEventListener("change", () => { typedIn = form; });
}

// ``form``'s typing went out (or was given up on purpose): leaving no longer asks.
export function sent(form) {
  if (typedIn === form) typedIn = null;
}

// Whether leaving now would lose typing: a form typed into that is still on the page.
function unsent() {
  return typedIn !== null && typedIn.isConnected;
}

// Asked before the console draws another page: true to go on (nothing to lose, or the user
// chose to leave), false to stay.
export function mayLeave() {
  if (!unsent()) return true;
  if (!window.confirm(t("unsent.leave"))) return false;
  typedIn = null;
  return true;
}

// Leaving the console itself: the browser asks, in its own words (it shows no page's text).
window.addEventListener("beforeunload", (event) => {
  if (unsent()) event.preventDefault();
});
