// Review: the queue of submitted cases, and the approval form — the criteria as a checklist,
// each explained, the alert's time window, and the four-eyes rule shown before it refuses.
import { post } from "../api.js";
import { h, replace, replaceKeepingFocus, scrollingRegion } from "../dom.js";
import { numberField, numberOf } from "../inputs.js";
import { list } from "../format.js";
import { t } from "../i18n.js";
import { showSending } from "../sending.js";
import { every } from "../page.js";
import { firstPages, moreButton, offerMore } from "../paging.js";
import { checkFields, markFieldErrors } from "../field_errors.js";
import { CRITERIA_FIELDS } from "./correction.js";
import { notify, reportActError, reportFieldErrors } from "../session.js";
import { casesTable } from "./cases.js";

export const CRITERIA = [
  "child_under_18",
  "involuntary_or_at_risk",
  "enough_descriptive_information",
  "guardian_consent_recorded",
  "publication_adds_no_risk",
];

let questions = 0;

// A button that asks once more before it acts (a second click on "confirm"). The focus goes
// where the user's next press is: to "confirm", which the question describes (a screen
// reader says it), then back to the button if they step back or the act is refused.
// ``ready``: whether what the act will send is fit to ask about (false: it has said why, on
// the fields at fault, and nothing is asked).
export function confirmButton(label, question, act, name, kind = "", ready = () => true) {
  const box = h("span", { class: "confirm" });
  const start = h("button", { type: "button", class: kind, "data-action": name, text: label });
  const draw = () => replace(box, start);
  const back = () => { draw(); start.focus(); };
  start.addEventListener("click", () => {
    if (!ready()) return;
    questions += 1;
    const asked = h("span", { id: `confirm-question-${questions}`, text: question });
    const confirm = h("button", { type: "button", class: kind || "", "data-confirm": name, "aria-describedby": asked.id, text: t("confirm"), onclick: async (event) => {
      showSending(event.target);
      try { await act(); } catch (error) { back(); reportActError(error); }
    } });
    replace(box, asked, confirm, h("button", { type: "button", class: "secondary", text: t("back"), onclick: back }));
    confirm.focus();
  });
  draw();
  return box;
}

// Where the API's name for the time window (``ttl_hours``) is typed, in the approval form.
const WINDOW_FIELD = { ttl_hours: "ttl" };

// Whether the fields in ``box`` pass the page's own checks (a time window is a number of
// hours, 1 to 168); if not, they are marked and named, and the act is not sent. Sent as
// typed, "abc" or "500" came back as the API's "ttl_hours: …", on no field.
export function fieldsPass(box) {
  const unchecked = checkFields(box);
  if (unchecked.length) reportFieldErrors({ labels: unchecked });
  return unchecked.length === 0;
}

// What approval finds missing in the case itself is corrected on the same page, in the case's
// correction form (``correction.js``): opened, with the fields at fault marked.
function showWhatToCorrect(error) {
  const form = document.getElementById("correct-case");
  const named = (error?.problem?.errors ?? []).some((e) => e.field in CRITERIA_FIELDS);
  if (!form || !named) return false;
  form.closest("details").open = true;  // before the focus goes into it
  const marked = markFieldErrors(form, error, CRITERIA_FIELDS);
  if (marked.labels.length) reportFieldErrors(marked);
  return marked.labels.length > 0;
}

// A time window the API refused, marked on its field (true), or nothing to mark (false).
function showWindowError(form, error) {
  const marked = markFieldErrors(form, error, WINDOW_FIELD);
  if (marked.labels.length) reportFieldErrors(marked);
  return marked.labels.length > 0;
}

// What Approve waits for, by name: shown under it and read as its description.
function explainUnticked(why, names) {
  why.hidden = names.length === 0;
  why.textContent = names.length ? `${t("approve_unticked")} ${list(names.map((name) => t(`criterion.${name}`)))}.` : "";
}

export function reviewPanel(report, me, reload) {
  // Four eyes: neither the key that filed the case nor the one that last rewrote what
  // partners would show approves it (it may still reject it, unless it filed it).
  const filed = Boolean(me && report.submitted_by_key === me.id);
  const ownCase = filed || Boolean(me && (report.content_by_keys || []).includes(me.id));
  const boxes = CRITERIA.map((name) => h("input", { type: "checkbox", id: `criterion-${name}`, name }));
  const ttl = numberField("ttl", { min: 1, max: 168, placeholder: "24" });
  // Not ready, Approve stays in the tab order (aria-disabled, not disabled, which would take
  // it out): a keyboard or screen-reader user finds it, and hears from its description why it
  // does nothing yet. On the reviewer's own case the four-eyes notice is that description.
  const why = h("p", { class: "hint", id: "approve-why" });
  const approve = h("button", { type: "submit", id: "approve", text: t("approve") });
  let sending = false;
  const unticked = () => CRITERIA.filter((name, i) => !boxes[i].checked);
  const ready = () => !ownCase && !sending && unticked().length === 0;
  const refresh = () => {
    approve.setAttribute("aria-disabled", String(!ready()));
    explainUnticked(why, ownCase ? [] : unticked());
    const reason = ownCase ? "four-eyes" : why.hidden ? null : why.id;
    if (reason) approve.setAttribute("aria-describedby", reason);
    else approve.removeAttribute("aria-describedby");
  };
  boxes.forEach((b) => b.addEventListener("change", refresh));
  const form = h("form", { class: "panel", id: "review" },
    h("h2", { text: t("review") }),
    h("ul", { class: "criteria" }, CRITERIA.map((name, i) => h("li", {},
      h("label", {}, boxes[i], " ", h("strong", { text: t(`criterion.${name}`) }),
        h("small", { text: t(`criterion.${name}.why`) }))))),
    h("label", { for: "ttl" }, t("ttl_hours"), " ", ttl, h("small", { class: "hint", text: t("ttl_hint") })),
    ownCase ? h("p", { class: "four-eyes", id: "four-eyes", text: t(filed ? "four_eyes_own" : "four_eyes_wrote") }) : h("p", { class: "hint", text: t("four_eyes") }),
    h("p", {}, approve), why);
  refresh();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!ready()) return;  // a press while criteria are unticked, or while it is being sent
    if (!fieldsPass(form)) return;
    sending = true;
    refresh();
    const criteria = Object.fromEntries(CRITERIA.map((name, i) => [name, boxes[i].checked]));
    try {
      // The version reviewed: if the case changed since the page drew it (a correction, a
      // sighting), the API refuses, and the page is drawn again with the case as it is now,
      // for the reviewer to read before anything goes out.
      const reviewed = { "If-Match": `"${report.version}"` };
      await post(`v1/reports/${report.id}/approve`, { criteria, ...(ttl.value ? { ttl_hours: numberOf(ttl) } : {}) }, null, reviewed);
      notify(t("approved_ok"), true);
      reload();
    } catch (error) {
      sending = false;
      if (error.status === 412) {
        notify(t("changed_since_read"));
        reload();
        return;
      }
      if (error.status === 409) {
        // The case moved on meanwhile (withdrawn, approved by another reviewer): said, and
        // the page drawn as the case now is, not left offering to review it.
        reportActError(error);
        reload();
        return;
      }
      if (!showWhatToCorrect(error) && !showWindowError(form, error)) reportActError(error);
      refresh();
    }
  });
  // Required, and checked before the confirmation is asked: asked first, a rejection with no
  // reason was refused only once confirmed, on no field.
  const reason = h("input", { type: "text", id: "reject-reason", placeholder: t("reason"), "aria-label": t("reject_reason"), maxlength: 2000, required: true });
  const reject = h("div", { class: "row" }, reason);
  reject.append(confirmButton(t("reject"), t("confirm_reject"), async () => {
    await post(`v1/reports/${report.id}/reject`, { reason: reason.value.trim() });
    notify(t("rejected_ok"), true);
    reload();
  }, "reject", "danger", () => fieldsPass(reject)));
  return h("div", {}, form, filed ? null : reject);
}

export async function showReviewQueue(view) {
  const body = scrollingRegion(t("nav.review"), { id: "queue" });
  let pages = 1;
  let shown = "";
  const load = async () => {
    const { items, more: further } = await firstPages("v1/reports", { status: "submitted", limit: 200 }, pages);
    const key = items.map((r) => r.id).join();
    if (key !== shown || !body.firstChild) {
      shown = key;
      replaceKeepingFocus(body, "data-case", items.length ? casesTable(items) : h("p", { text: t("queue_empty") }));
    }
    offerMore(more, items.length, further);
  };
  const more = moreButton("more-queue", () => { pages += 1; return load(); }, (n) => body.querySelectorAll("a.child-name")[n]);
  replace(view, h("section", {}, h("h1", { text: t("nav.review") }), h("p", { class: "hint", text: t("queue_hint") }), body, more));
  every(3000, load);
}
