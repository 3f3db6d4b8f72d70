// Building elements. Every value that came from a report is set as text (a text node or
// textContent), never parsed as HTML: a name holding markup shows as typed.

export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else if (name === "class") el.className = value;
    else if (name === "text") el.textContent = String(value);
    else if (name === "checked" || name === "disabled" || name === "hidden") el[name] = Boolean(value);
    else if (name === "value") el.value = value;
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

// A box for a table wider than a phone: it scrolls within itself, not the page, and it can
// be reached and scrolled from the keyboard (most of its columns hold no control to tab to)
// and is named for a screen reader.
export function scrollingRegion(label, props = {}, ...children) {
  const classes = ["scrolling", props.class].filter(Boolean).join(" ");
  return h("div", { ...props, class: classes, tabindex: "0", role: "region", "aria-label": label }, ...children);
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// A label/value list; values are text.
export function fields(pairs) {
  return h("dl", { class: "fields" }, pairs
    .filter(([, value]) => value !== null && value !== undefined && value !== "")
    .map(([label, value]) => [h("dt", { text: label }), h("dd", {}, value)]));
}

// The language a value someone typed is spoken in, by the script of its first letter (the
// one ``dir="auto"`` takes its direction from: a name in Arabic with a Latin plate after it
// is still an Arabic name). Arabic and Tifinagh are marked as such. Latin letters are left to
// a French or English page (it cannot tell which of the two they are); on an Arabic page they
// are marked French, the language Moroccan records spell names in with Latin letters: an
// Arabic voice would read "Tanger" or a plate letter by letter. No letter: the page's.
export function typedLanguage(value) {
  const letter = String(value).match(/\p{L}/u)?.[0];
  if (!letter) return null;
  if (/\p{Script=Arabic}/u.test(letter)) return "ar";
  if (/\p{Script=Tifinagh}/u.test(letter)) return "zgh";
  if (/\p{Script=Latin}/u.test(letter) && document.documentElement.lang === "ar") return "fr";
  return null;
}

// The properties of an element showing what a user typed (a child's name, a place, a note):
// its own direction, whatever the page's, and its language where it is not the page's
// (``typedLanguage``), so a screen reader speaks it in that language rather than spelling it
// out letter by letter.
export function typedText(value) {
  return { dir: "auto", lang: typedLanguage(value), text: value };
}

// A typed value as a span (null when there is none, so ``fields`` leaves it out).
export function typed(value) {
  return value === null || value === undefined || value === "" ? null : h("span", typedText(value));
}

const CONTROLS = "a[href], button, input, select, textarea, [tabindex]:not([tabindex='-1'])";

// Lists that refresh on a timer are drawn again whole. A keyboard user on one of their
// controls would be dropped to the start of the page: the control is found again in the new
// rows, by the row's stable key (``keyAttribute``, e.g. data-case) and its place in the row.
export function replaceKeepingFocus(box, keyAttribute, ...children) {
  const spot = focusSpot(box, keyAttribute);
  replace(box, ...children);
  if (spot) focusAgain(box, keyAttribute, spot);
}

function focusSpot(box, keyAttribute) {
  const active = document.activeElement;
  if (!active || active === box || !box.contains(active)) return null;
  const row = active.closest(`[${keyAttribute}]`);
  if (!row) return { key: null, control: -1, row: -1 };
  return {
    key: row.getAttribute(keyAttribute),
    control: [...row.querySelectorAll(CONTROLS)].indexOf(active),
    row: [...box.querySelectorAll(`[${keyAttribute}]`)].indexOf(row),
  };
}

// The same row's same control; that row gone (a case that left the queue), the row now in
// its place; a row without that control (a delivery replayed has no Replay any more), the row
// itself; no rows left, the list.
function focusAgain(box, keyAttribute, spot) {
  const rows = [...box.querySelectorAll(`[${keyAttribute}]`)];
  const row = rows.find((r) => r.getAttribute(keyAttribute) === spot.key) ?? rows[Math.min(spot.row, rows.length - 1)];
  const target = row ? row.querySelectorAll(CONTROLS)[spot.control] ?? focusable(row) : focusable(box);
  target.focus({ preventScroll: true });
}

function focusable(el) {
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  return el;
}
