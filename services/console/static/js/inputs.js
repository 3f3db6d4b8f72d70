// A form field with its label around it: the label's words in the interface's language, the
// control a text input (or a textarea, given ``rows``).
import { h } from "./dom.js";
import { t } from "./i18n.js";

export function input(id, labelKey, props = {}) {
  const field = props.rows ? h("textarea", { id, name: id, ...props }) : h("input", { id, name: id, type: "text", ...props });
  return h("label", { for: id }, t(labelKey), " ", field);
}

// Digits typed in Arabic-Indic (U+0660–0669) or Eastern Arabic-Indic (U+06F0–06F9) script,
// the Arabic decimal separator and the minus sign, as the API reads numbers. (A browser's
// number field refuses such digits outright: an Arabic keyboard could not type an age.)
function westernDigits(text) {
  return text
    .replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (digit) => String(digit.charCodeAt(0) & 0xf))
    .replace("\u066b", ".")
    .replace("\u2212", "-");
}

// A number field that takes digits in either script, with its label: a text field, checked
// by ``field_errors`` (``data-min``, ``data-max``, ``data-integer``), read with ``numberOf``.
export function numberInput(id, labelKey, props = {}) {
  return input(id, labelKey, asNumber(props));
}

// ``numberInput`` without its label (a form that lays its labels out itself).
export function numberField(id, props = {}) {
  return h("input", { id, name: id, type: "text", ...asNumber(props) });
}

function asNumber({ min, max, integer = false, ...props }) {
  return {
    inputmode: integer ? "numeric" : "decimal",
    dir: "ltr",
    "data-number": true,
    "data-min": min,
    "data-max": max,
    "data-integer": integer || null,
    ...props,
  };
}

// The number in a ``numberInput`` or ``numberField``: null when it is empty. Text that is no
// number is given back as typed: a form that does not check it first (``field_errors``)
// sends it so, and the API refuses it naming the field, rather than take a default for it.
export function numberOf(control) {
  // A decimal comma, as French writes it (a number field took it too, in a French browser).
  const typed = westernDigits(control.value.trim());
  const text = typed.includes(".") ? typed : typed.replace(",", ".");
  if (text === "") return null;
  const value = Number(text);
  return Number.isFinite(value) ? value : text;
}

// A point is typed in two fields: either one filled makes the other required, so that half a
// point is said on the field left empty before anything is sent. Sent, it was dropped without
// a word, and the case (or the sighting) was placed by its place name alone.
export function requireBoth(first, second) {
  first.required = Boolean(second.value.trim());
  second.required = Boolean(first.value.trim());
}
