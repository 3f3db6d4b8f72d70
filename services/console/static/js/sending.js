// A button whose request is on its way. Greyed alone, on a slow link it looked like a button
// that had stopped working, and was pressed again and again: it says that it is sending, to
// the eye and (``aria-busy``) to a screen reader, until the answer comes.
import { t } from "./i18n.js";

// Disables ``button`` and labels it as sending; returns what gives it back its label, for
// when the page stays (a refusal, a sighting added). A page that moves on draws it anew.
export function showSending(button) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = t("sending");
  return () => {
    button.textContent = label;
    button.removeAttribute("aria-busy");
    button.disabled = false;
  };
}
