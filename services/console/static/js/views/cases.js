// The cases list (status filter, badges, age, place, time since last seen) and the form a
// police unit submits a case with.
import { ApiError, post } from "../api.js";
import { h, replace, replaceKeepingFocus, scrollingRegion, typedText } from "../dom.js";
import { agoElement, childAge, refreshAgo, when, years } from "../format.js";
import { t } from "../i18n.js";
import { showSending } from "../sending.js";
import { every } from "../page.js";
import { firstPages, moreButton, offerMore } from "../paging.js";
import { fromWallClock, clockName, followClock } from "../zone.js";
import { can, notifyAfterMove, reportActError, reportError, reportFieldErrors } from "../session.js";
import { checkFields, markField, markFieldErrors } from "../field_errors.js";
import { input, numberInput, numberOf, requireBoth } from "../inputs.js";
import { guard, sent } from "../unsent.js";
import { PointMap, followPlaceName, pointMapBox } from "../point_map.js";

const STATUSES = ["submitted", "approved", "rejected", "resolved", "cancelled", "expired"];

export function badges(report) {
  return report.message_status !== "Actual"
    ? h("span", { class: `badge ${report.message_status}`, text: t(`badge.${report.message_status}`) })
    : null;
}

export function caseRow(report) {
  const r = report.report;
  const name = r ? `${r.child.given_name}${r.child.family_name ? ` ${r.child.family_name}` : ""}` : t("erased");
  return h("tr", { "data-case": report.id },
    h("td", {}, h("a", { href: `#/cases/${report.id}`, class: "child-name", ...typedText(name) }), badges(report)),
    h("td", {}, h("span", { class: `status ${report.status}`, text: t(`status.${report.status}`) })),
    h("td", { text: years(childAge(r?.child)) }),
    h("td", typedText(r?.last_seen?.place_name ?? "")),
    h("td", {}, r ? agoElement(r.last_seen.at) : ""),
    h("td", { text: when(report.created_at) }));
}

export function casesTable(items) {
  return h("table", { class: "cases" },
    h("thead", {}, h("tr", {}, ["th.child", "th.status", "th.age", "th.place", "th.since_seen", "th.created"].map((k) => h("th", { text: t(k) })))),
    h("tbody", {}, items.map(caseRow)));
}

export async function showCases(view) {
  const filter = h("select", { id: "status-filter" },
    h("option", { value: "", text: t("all") }),
    STATUSES.map((s) => h("option", { value: s, text: t(`status.${s}`) })));
  const body = scrollingRegion(t("nav.cases"), { id: "cases" });
  let pages = 1;  // as many as the user asked for, each refresh
  const more = moreButton("more-cases", () => { pages += 1; return load(); }, (n) => body.querySelectorAll("a.child-name")[n]);
  replace(view, h("section", {},
    h("div", { class: "row" }, h("h1", { text: t("nav.cases") }), h("label", { for: "status-filter", text: t("filter") }), filter),
    body, more));
  let shown = "";
  const load = async () => {
    const { items, more: further } = await firstPages("v1/reports", { status: filter.value, limit: 100 }, pages);
    const key = JSON.stringify(items.map((r) => [r.id, r.status, r.updated_at]));
    // Redrawn only on change, so a reader's text selection survives the refresh.
    if (key !== shown || !body.firstChild) {
      shown = key;
      replaceKeepingFocus(body, "data-case", items.length ? casesTable(items) : h("p", { text: t("none") }));
    } else {
      refreshAgo(body);
    }
    offerMore(more, items.length, further);
  };
  filter.addEventListener("change", () => { shown = ""; pages = 1; load().catch(reportError); });
  every(5000, load);
}

// Where each field of a report (by its path in the API, ``field_errors``) is typed in the
// new-case form.
const CASE_FIELDS = {
  "child.given_name": "given_name", "child.family_name": "family_name", "child.age": "age",
  "child.birth_date": "birth_date", "child.sex": "sex", "child.description": "description",
  "child.clothing": "clothing", "child.photo_urls": "photo_url", "last_seen.place_name": "place_name",
  "last_seen.location.lat": "lat", "last_seen.location.lon": "lon", "last_seen.location": "lat",
  "last_seen.at": "seen_at", "last_seen.heading_deg": "heading", "last_seen.destination": "destination",
  travel_mode: "travel_mode", "suspected_vehicle.plate": "plate", suspected_vehicle: "vehicle",
  companion: "companion", circumstances: "circumstances", "guardian.name": "guardian_name",
  "guardian.phone": "guardian_phone", "guardian.consent_to_publication": "consent",
  "submitted_by.officer": "officer", message_status: "message_status",
};

export function showNewCase(view) {
  if (!can("reports:submit")) return;
  // Checked here, in the page's language (``field_errors``), not by the browser's bubbles.
  const form = h("form", { class: "panel", id: "new-case", novalidate: true },
    h("h1", { text: t("nav.new") }),
    input("given_name", "f.given_name", { required: true, maxlength: 100 }),
    input("family_name", "f.family_name", { required: true, maxlength: 100 }),
    // An age, or a birth date instead (the API takes either and works the age out).
    // The "or" between them is no part of either's name: a field at fault is named by its label.
    h("div", { class: "row" }, numberInput("age", "f.age", { min: 0, max: 17, integer: true }), h("span", { text: t("or") }), input("birth_date", "f.birth_date", { type: "date" })),
    // No sex chosen in advance: a default would go out in every text ("a girl aged 12").
    h("label", { for: "sex" }, t("f.sex"), " ", h("select", { id: "sex", required: true },
      h("option", { value: "", text: t("choose") }),
      ["female", "male", "unknown"].map((s) => h("option", { value: s, text: t(`sex.${s}`) })))),
    // What approval will ask of it, said before it is filed.
    input("description", "f.description", { rows: 2, required: true, "aria-describedby": "description-hint" }),
    h("small", { class: "hint", id: "description-hint", text: t("description_hint") }),
    input("clothing", "f.clothing"),
    input("place_name", "f.place_name", { required: true }),
    // Where the name puts the case, or why it would be refused (``followPlaceName``): said as
    // it changes, not the field's description, which a refusal on sending takes.
    h("small", { class: "hint", id: "place-name-found", "aria-live": "polite", dir: "auto" }),
    h("div", { class: "row" }, numberInput("lat", "f.lat", { min: -90, max: 90 }), numberInput("lon", "f.lon", { min: -180, max: 180 })),
    // Or placed on the map, which fills the two fields (a point outside the service area is
    // refused by the API, its words under the latitude).
    pointMapBox(),
    // Empty: a time offered in advance would go out in every text if left as it was.
    input("seen_at", "f.seen_at", { type: "datetime-local", required: true, "aria-describedby": "seen-at-clock" }),
    h("small", { class: "hint", id: "seen-at-clock", text: clockName() }),
    h("label", { for: "travel_mode" }, t("f.travel_mode"), " ", h("select", { id: "travel_mode" }, ["unknown", "foot", "vehicle", "public_transport"].map((s) => h("option", { value: s, text: t(`travel.${s}`) })))),
    // A known direction of travel stretches the zone that way: a heading, or a destination.
    h("div", { class: "row" }, numberInput("heading", "heading", { min: 0, max: 359 }), h("span", { text: t("or") }), input("destination", "f.destination", { maxlength: 500 })),
    h("div", { class: "row" }, input("vehicle", "f.vehicle", { maxlength: 500 }), input("plate", "f.plate", { maxlength: 20 })),
    input("companion", "f.companion", { maxlength: 500 }),
    input("photo_url", "f.photo_url", { type: "url", maxlength: 2000, placeholder: "https://", dir: "ltr" }),
    input("circumstances", "f.circumstances", { rows: 2, required: true }),
    input("guardian_name", "f.guardian_name", { required: true }),
    input("guardian_phone", "f.guardian_phone", { required: true, type: "tel", dir: "ltr" }),
    h("label", {}, h("input", { type: "checkbox", id: "consent" }), " ", t("f.consent")),
    input("officer", "f.officer", { required: true }),
    h("label", { for: "message_status" }, t("f.message_status"), " ", h("select", { id: "message_status" }, ["Actual", "Exercise", "Test"].map((s) => h("option", { value: s, text: t(`badge.${s}`) })))),
    h("p", {}, h("button", { type: "submit", text: t("submit_case") })));
  const v = (id) => form.querySelector(`#${id}`).value.trim();
  const n = (id) => numberOf(form.querySelector(`#${id}`));
  const send = form.querySelector("button[type=submit]");
  followClock(form.querySelector("#seen_at"), form.querySelector("#seen-at-clock"));
  // A plate alone would be dropped: it is said with the vehicle it is on.
  const vehicle = form.querySelector("#vehicle");
  form.querySelector("#plate").addEventListener("input", (event) => { vehicle.required = Boolean(event.target.value.trim()); });
  // One key for this form's case: a second click, or a retry after an error the API asks to
  // retry, files it once.
  const idempotencyKey = crypto.randomUUID();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (send.disabled) return;
    requireBoth(form.querySelector("#lat"), form.querySelector("#lon"));
    const unchecked = checkFields(form);
    if (unchecked.length) return reportFieldErrors({ labels: unchecked });
    // Either will do (the API works the age out of a birth date): said here, on the field.
    if (!v("age") && !v("birth_date")) return reportFieldErrors(markField(form.querySelector("#age"), t("error.age_or_birth")));
    const point = v("lat") && v("lon") ? { lat: n("lat"), lon: n("lon") } : null;
    const body = {
      child: { given_name: v("given_name"), family_name: v("family_name"), sex: v("sex"), description: v("description"), clothing: v("clothing") || null },
      last_seen: { place_name: v("place_name"), location: point, at: fromWallClock(v("seen_at")).toISOString() },
      circumstances: v("circumstances"),
      travel_mode: v("travel_mode"),
      guardian: { name: v("guardian_name"), phone: v("guardian_phone"), consent_to_publication: form.querySelector("#consent").checked },
      submitted_by: { officer: v("officer") },
      message_status: v("message_status"),
    };
    if (v("age")) body.child.age = n("age");
    if (v("birth_date")) body.child.birth_date = v("birth_date");
    if (v("heading")) body.last_seen.heading_deg = n("heading");
    // Both given: the API refuses them together, naming the field, rather than drop one.
    if (v("destination")) body.last_seen.destination = { place_name: v("destination") };
    if (v("vehicle")) body.suspected_vehicle = { description: v("vehicle"), plate: v("plate") || null };
    if (v("companion")) body.companion = v("companion");
    if (v("photo_url")) body.child.photo_urls = [v("photo_url")];
    const sendingDone = showSending(send);
    try {
      const created = await post("v1/reports", body, idempotencyKey);
      sent(form);
      notifyAfterMove(t("submitted_ok"));
      location.hash = `#/cases/${created.id}`;
    } catch (error) {
      // Sent again after a lost answer with something corrected: the first one was filed.
      const filed = error instanceof ApiError && error.status === 409 ? error.problem.report_id : null;
      if (filed) {
        sent(form);
        notifyAfterMove(t("already_filed"));
        location.hash = `#/cases/${filed}`;
        return;
      }
      const marked = markFieldErrors(form, error, CASE_FIELDS);
      if (marked.labels.length) reportFieldErrors(marked);
      else reportActError(error);
      sendingDone();
    }
  });
  guard(form);
  replace(view, form);
  // Made once the form is in the page: the map measures its box.
  const map = new PointMap(form.querySelector("#last-seen-map"), form.querySelector("#lat"), form.querySelector("#lon"), form.querySelector("#last-seen-point"));
  followPlaceName(form.querySelector("#place_name"), form.querySelector("#place-name-found"), map);
}
