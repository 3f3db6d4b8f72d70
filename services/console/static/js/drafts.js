// Work typed into a page's fields, carried over a redraw of that page: a change of language,
// or signing in again after the API refused the key (revoked or expired mid-form). Held in
// this tab's memory only, never in storage: it may be a child's details. Given back only to
// the same page, for a key of the same unit (national keys: any national key), and once.

let kept = null; // { page: the hash, unit, values: { field id: value or checked } }

function fieldsOf(view) {
  return [...view.querySelectorAll("input[id], textarea[id], select[id]")]
    .filter((field) => field.type !== "password" && field.type !== "file");
}

// A page with no fields (the sign-in form: its key is never kept) leaves a draft kept before
// it in place: the language changed while signing in again must not lose the case typed.
export function keepDraft(view, page, unit) {
  const values = {};
  for (const field of fieldsOf(view)) values[field.id] = field.type === "checkbox" ? field.checked : field.value;
  if (Object.keys(values).length) kept = { page, unit, values };
}

// Puts the kept values back into the fields of the same ids, as if typed (the listeners that
// follow typing run: a plate makes the vehicle required, a time shows its offset). A field
// the page drew with the same value is left as drawn: nothing was typed into it (a form
// untouched must not count as typing not sent, ``unsent``).
export function restoreDraft(view, page, unit) {
  const draft = kept;
  kept = null;
  if (!draft || draft.page !== page || draft.unit !== unit) return;
  for (const field of fieldsOf(view)) {
    if (!(field.id in draft.values)) continue;
    const value = draft.values[field.id];
    if ((field.type === "checkbox" ? field.checked : field.value) === value) continue;
    if (field.type === "checkbox") field.checked = value;
    else field.value = value;
    // Typed in a panel that was open (a correction): put back folded away, it looked lost.
    const panel = field.closest("details");
    if (panel) panel.open = true;
    field.dispatchEvent(new Event("input", { bubbles: true }));
    field.dispatchEvent(new Event("change", { bubbles: true }));
  }
}

// Signing out on purpose: nothing typed is left for whoever signs in next.
export function dropDraft() {
  kept = null;
}
