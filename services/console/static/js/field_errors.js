// A form's fields at fault, marked where the user will look: each one invalid
// (``aria-invalid``), its message under it and read as its description, the focus on the
// first. The browser's own checks (a required field left empty, a URL, a number out of range)
// are made here too, so that they are said in the page's language: the browser's bubbles
// speak the browser's, whatever the page's.
import { h } from "./dom.js";
import { t } from "./i18n.js";
import { numberOf } from "./inputs.js";

// The API names a field by its path in the request ("last_seen.place_name",
// "child.photo_urls.0"); ``controls`` maps a path, or the start of one, to the id of the form
// control that holds it.
function controlFor(form, controls, field) {
  const path = Object.keys(controls)
    .filter((p) => field === p || field.startsWith(`${p}.`))
    .sort((a, b) => b.length - a.length)[0];
  return path ? form.querySelector(`#${controls[path]}`) : null;
}

// The control's name as the form shows it: its label's own words, without the control's
// value or a message already under it.
export function labelOf(control) {
  const label = control.closest("label") ?? control.ownerDocument.querySelector(`label[for="${control.id}"]`);
  if (!label) return control.getAttribute("aria-label") ?? control.id;
  return [...label.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(" ").trim()
    || label.textContent.trim();
}

function unmark(control) {
  control.removeAttribute("aria-invalid");
  control.ownerDocument.getElementById(`${control.id}-error`)?.remove();
  const described = (control.getAttribute("aria-describedby") ?? "").split(" ").filter((id) => id && id !== `${control.id}-error`);
  if (described.length) control.setAttribute("aria-describedby", described.join(" "));
  else control.removeAttribute("aria-describedby");
}

export function clearFieldErrors(form) {
  for (const control of form.querySelectorAll("[aria-invalid]")) unmark(control);
}

// ``fromApi``: the message is the API's, in English whatever the page's language. It is
// introduced in the page's language, and the note runs in the page's direction (beside its
// field, on an Arabic page too); the message itself is marked English, so that a screen
// reader reads it in an English voice and its own direction keeps its order.
function mark(control, message, fromApi = false) {
  if (control.getAttribute("aria-invalid") === "true") return;  // its first message stands
  control.setAttribute("aria-invalid", "true");
  const said = fromApi
    ? [t("error.server_said"), " ", h("span", { lang: "en", dir: "ltr", text: message })]
    : [message];
  const note = h("small", { class: "field-error", id: `${control.id}-error` }, ...said);
  // After the label, not inside it: inside, the message would become part of the field's name.
  (control.closest("label") ?? control).after(note);
  const described = [control.getAttribute("aria-describedby"), note.id].filter(Boolean).join(" ");
  control.setAttribute("aria-describedby", described);
  // Corrected, it is no longer marked: the marks left are what still needs doing.
  control.addEventListener("input", () => unmark(control), { once: true });
}

// A ``numberInput``'s checks, as a number field's would be, in the page's language.
function numberCheck(control) {
  const value = numberOf(control);
  if (value === null) return control.required ? t("error.required") : null;
  if (typeof value !== "number" || (control.dataset.integer !== undefined && !Number.isInteger(value))) return t("error.number");
  const { min, max } = control.dataset;
  if ((min !== undefined && value < Number(min)) || (max !== undefined && value > Number(max))) return `${t("error.range")} \u2066${min}–${max}\u2069`;
  return null;
}

// What the browser's checks say of a control, in the page's language; null when it passes.
function browserCheck(control) {
  if (control.dataset?.number !== undefined) return numberCheck(control);
  const v = control.validity;
  if (!v || v.valid) return null;
  if (v.valueMissing) return t(control.type === "checkbox" ? "error.unchecked" : "error.required");
  if (v.typeMismatch && control.type === "url") return t("error.url");
  // The range isolated left to right: in an Arabic line, "-90–90" would show reordered.
  if (v.rangeUnderflow || v.rangeOverflow) return `${t("error.range")} \u2066${control.min}–${control.max}\u2069`;
  if (v.badInput || v.stepMismatch) return t("error.number");
  if (v.tooLong) return `${t("error.too_long")} ${control.maxLength}`;
  if (v.tooShort) return `${t("error.too_short")} ${control.minLength}`;
  return t("error.invalid");
}

// Marks what the browser's own checks refuse: the labels of the fields marked (none: every
// control passes). The form is ``novalidate``: the checks are said here, not in the browser's
// bubbles.
export function checkFields(form) {
  clearFieldErrors(form);
  const failing = [...form.querySelectorAll("input, select, textarea")]
    .map((control) => [control, browserCheck(control)])
    .filter(([, message]) => message);
  for (const [control, message] of failing) mark(control, message);
  if (failing.length) failing[0][0].focus();
  return failing.map(([control]) => labelOf(control));
}

// One field marked with the console's own words (in the page's language), the focus on it.
export function markField(control, message) {
  clearFieldErrors(control.form);
  mark(control, message);
  control.focus();
  return { labels: [labelOf(control)], unmatched: [], error: null };
}

// Marks the fields the API's problem names (its ``errors``): the labels of those marked, in
// the form's order (none: the problem names none of the form's fields, and the caller says it
// otherwise), what it names that the form has no field for (said beside them: a reason never
// goes unsaid), and the error.
export function markFieldErrors(form, error, controls) {
  clearFieldErrors(form);
  const marked = [];
  const unmatched = [];
  for (const { field, message } of error?.problem?.errors ?? []) {
    const control = controlFor(form, controls, String(field));
    if (!control) {
      unmatched.push({ field, message });
      continue;
    }
    mark(control, message, true);
    if (!marked.includes(control)) marked.push(control);
  }
  const order = [...form.querySelectorAll("input, select, textarea")];
  marked.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  if (marked.length) marked[0].focus();
  return { labels: marked.map(labelOf), unmatched, error };
}
