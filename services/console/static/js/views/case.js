// One case: its public fields, its restricted fields where the key may read them, what the
// key may do now (review, renew, resolve, cancel), the map with its sightings, the alert and
// its deliveries, and the audit timeline.
import { ApiError, get, post, query } from "../api.js";
import { fields, h, replace, scrollingRegion, typed, typedText } from "../dom.js";
import { numberField, numberOf } from "../inputs.js";
import { agoElement, childAge, when, years } from "../format.js";
import { t } from "../i18n.js";
import { CaseMap } from "../map.js";
import { arrive, every, leave, ticket } from "../page.js";
import { can, notify, reportError, signedInKey } from "../session.js";
import { badges } from "./cases.js";
import { alertPanel } from "./alert.js";
import { deliveriesPanel } from "./deliveries.js";
import { confirmButton, fieldsPass, reviewPanel } from "./review.js";
import { sightingForm } from "./sightings.js";
import { correctable, correctionForm } from "./correction.js";

function childName(report) {
  const r = report.report;
  if (!r) return t("erased");
  return [r.child.given_name, r.child.family_name].filter(Boolean).join(" ");
}

function caseFields(report) {
  const r = report.report;
  if (!r) return h("p", { text: t("erased") });
  const c = r.child;
  return h("div", {},
    h("h2", { text: t("public_fields") }),
    fields([
      [t("f.given_name"), typed(c.given_name)],
      [t("f.age"), years(childAge(c))],
      [t("f.sex"), t(`sex.${c.sex}`)],
      [t("f.description"), typed(c.description)],
      [t("f.clothing"), typed(c.clothing)],
      [t("f.place_name"), typed(r.last_seen.place_name)],
      [t("f.seen_at"), [when(r.last_seen.at), " — ", agoElement(r.last_seen.at)]],
      [t("f.travel_mode"), t(`travel.${r.travel_mode}`)],
      [t("heading"), r.last_seen.heading_deg ?? null],
      [t("f.destination"), r.last_seen.destination ? typed(r.last_seen.destination.place_name ?? `${r.last_seen.destination.location.lat}, ${r.last_seen.destination.location.lon}`) : null],
      [t("f.photo_url"), (c.photo_urls ?? []).length ? c.photo_urls.map((url) => h("code", { dir: "ltr", text: url })) : null],
      [t("f.vehicle"), r.suspected_vehicle ? typed([r.suspected_vehicle.description, r.suspected_vehicle.plate].filter(Boolean).join(" — ")) : null],
      [t("f.companion"), typed(r.companion)],
    ]),
    // Present only when the key may read them: the server leaves them out otherwise.
    r.guardian || r.circumstances ? [
      h("h2", { text: t("restricted_fields") }),
      fields([
        [t("f.family_name"), typed(c.family_name)],
        [t("f.circumstances"), typed(r.circumstances)],
        [t("f.guardian_name"), typed(r.guardian?.name)],
        [t("f.guardian_phone"), typed(r.guardian?.phone)],
        // A criterion of approval: a reviewer must see whether it is on record.
        [t("f.consent"), r.guardian ? h("span", { id: "consent-recorded", text: t(r.guardian.consent_to_publication ? "yes" : "no") }) : null],
        [t("f.officer"), typed(r.submitted_by?.officer)],
        [t("f.notes"), typed(r.notes)],
      ]),
    ] : null,
    h("h2", { text: t("case_state") }),
    fields([
      [t("th.status"), h("span", { class: `status ${report.status}`, id: "case-status", text: t(`status.${report.status}`) })],
      [t("status_reason"), typed(report.status_reason)],
      // An alert still up, or one that ran out, has its end; a closed case, when it closed.
      ["approved", "expired"].includes(report.status)
        ? [t("expires"), report.expires_at ? when(report.expires_at) : null]
        : [t("ended"), ["resolved", "cancelled", "rejected"].includes(report.status) ? when(report.updated_at) : null],
      [t("unit"), report.unit ?? t("national")],
      [t("th.created"), when(report.created_at)],
    ]));
}

// Open cases take sightings, an expired one too (the child is still missing); an erased one
// would bring personal data back.
function takesSightings(report) {
  return ["submitted", "approved", "expired"].includes(report.status) && Boolean(report.report);
}

// An untrusted sighting (another unit's) joins the zone once the case's unit or a reviewer
// confirms it.
function trustButton(report, sighting, reload) {
  if (sighting.trusted || !takesSightings(report) || !(can("reports:submit") || can("reports:review"))) return null;
  return confirmButton(t("trust"), t("confirm_trust"), async () => {
    await post(`v1/reports/${report.id}/sightings/${sighting.id}/trust`, {});
    notify(t("trusted_ok"), true);
    reload();
  }, "trust", "secondary");
}

function sightingsList(report, reload) {
  return h("section", { id: "sightings" },
    h("h2", { text: t("sightings") }),
    report.sightings.length ? scrollingRegion(t("sightings"), {}, h("table", {},
      h("thead", {}, h("tr", {}, ["th.when", "th.place", "trusted", "heading", "f.description"].map((k) => h("th", { text: t(k) })))),
      h("tbody", {}, report.sightings.map((s) => h("tr", { class: "sighting-row", "data-sighting": s.id },
        h("td", {}, when(s.at), " — ", agoElement(s.at)),
        h("td", { class: "place", ...typedText(s.place_name ?? `${s.location.lat}, ${s.location.lon}`) }),
        h("td", {}, s.trusted ? t("yes") : t("no"), " ", trustButton(report, s, reload)),
        h("td", s.heading_deg !== null && s.heading_deg !== undefined ? { text: s.heading_deg } : typedText(s.destination?.place_name ?? "")),
        h("td", { class: "description", ...typedText(s.description ?? "") }))))))
      : h("p", { text: t("none") }));
}

// Every entry of the case, oldest first, page after page: its newest acts come last, and one
// page alone would hide them from a case with more.
async function auditEntries(caseId) {
  const entries = [];
  let offset = 0;
  while (offset !== null) {
    const page = await get(`v1/audit${query({ case_id: caseId, limit: 200, offset })}`);
    entries.push(...page.items);
    offset = page.next_offset;
  }
  return entries;
}

async function auditTimeline(caseId) {
  const entries = await auditEntries(caseId);
  return h("section", { id: "audit" },
    h("h2", { text: t("audit") }),
    h("ol", { class: "timeline" }, entries.map((e) =>
      h("li", {}, h("time", { text: when(e.at) }), " — ", t(`audit.${e.action}`, e.action), " — ",
        e.key_name ? h("span", { class: "key-name", ...typedText(e.key_name) }) : null, " ", h("code", { text: e.key_id })))));
}

// What the key may do to the case now, as the API decides it (intake_api/access.py and the
// lifecycle): the buttons offered are the acts it would accept.
function actions(report, reload) {
  const me = signedInKey();
  const ownCase = Boolean(me && report.submitted_by_key === me.id);
  // The key that last rewrote what partners show does not renew it alone either.
  const wrote = Boolean(me && (report.content_by_keys || []).includes(me.id));
  const published = report.status === "approved" || report.status === "expired";
  const parts = [];
  if (report.status === "submitted" && can("reports:review")) parts.push(reviewPanel(report, me, reload));
  // Renewing or cancelling an alert that went out needs a second reviewer.
  if (published && can("reports:review") && (ownCase || wrote)) {
    parts.push(h("p", { class: "four-eyes", id: "four-eyes-alert", text: t(ownCase ? "four_eyes_alert" : "four_eyes_wrote_alert") }));
  }
  if (report.status === "approved" && can("reports:review") && !ownCase && !wrote) {
    const ttl = numberField("renew-ttl", { min: 1, max: 168, placeholder: "24" });
    const renew = h("div", { class: "row" }, h("label", { for: "renew-ttl", text: t("ttl_hours") }), ttl);
    renew.append(confirmButton(t("renew"), t("confirm_renew"), async () => {
      await post(`v1/reports/${report.id}/renew`, ttl.value ? { ttl_hours: numberOf(ttl) } : {});
      notify(t("renewed_ok"), true);
      reload();
    }, "renew", "", () => fieldsPass(renew)));
    parts.push(renew);
  }
  if ((report.status === "submitted" || published) && (can("reports:submit") || can("reports:review"))) {
    parts.push(h("div", { class: "row" }, confirmButton(t("resolve"), t("confirm_resolve"), async () => {
      await post(`v1/reports/${report.id}/resolve`, {});
      notify(t("resolved_ok"), true);
      reload();
    }, "resolve")));
  }
  // A submitter may withdraw its case while it is only submitted.
  if (report.status === "submitted" && can("reports:submit") && !can("reports:review")) {
    parts.push(h("div", { class: "row" }, confirmButton(t("withdraw"), t("confirm_withdraw"), async () => {
      await post(`v1/reports/${report.id}/cancel`, { reason: t("cancelled_from_console") });
      notify(t("withdrawn_ok"), true);
      reload();
    }, "cancel", "danger")));
  }
  if ((report.status === "submitted" || (published && !ownCase)) && can("reports:review")) {
    // Named, not only by its placeholder, which a screen reader loses once typing starts.
    const reason = h("input", { type: "text", id: "cancel-reason", placeholder: t("reason"), "aria-label": t("cancel_reason") });
    parts.push(h("div", { class: "row" }, reason, confirmButton(t("cancel_case"), t("confirm_cancel"), async () => {
      await post(`v1/reports/${report.id}/cancel`, { reason: reason.value.trim() || t("cancelled_from_console") });
      // Only a published alert has partners to take it down.
      notify(t(published ? "cancelled_ok" : "withdrawn_ok"), true);
      reload();
    }, "cancel", "danger")));
  }
  return parts.length ? h("section", { id: "actions" }, h("h2", { text: t("actions") }), parts) : null;
}

// The alert's panel; false while the alert is not there yet (a moment after approval), saying
// so, as for an alert that never went out (a case closed before its alert was issued).
async function drawAlert(box, report, map) {
  try {
    await alertPanel(box, report.alert_id, map);
    return true;
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    const open = ["approved", "expired"].includes(report.status);
    replace(box, h("p", { id: "no-alert", class: "hint", text: t(open ? "alert_coming" : "alert_never_issued") }));
    return !open;  // a closed case's alert will not come: nothing to wait for
  }
}

export async function showCase(view, caseId) {
  const stale = ticket();
  const report = await get(`v1/reports/${caseId}`);
  if (stale()) return;
  const reload = () => {
    leave();
    const moved = ticket();  // the user may go elsewhere before the page is drawn again
    showCase(view, caseId).then(() => { if (!moved()) arrive(view); }, reportError);
  };
  const mapBox = h("div", { id: "map" });
  const side = h("div", { id: "side" });
  // The status changes without the user (expiry, another officer's act): keep the page
  // current, but never over what the user is typing or ticking (a reviewer's criteria and
  // reason): then say that it changed, and redraw when asked.
  // A click counts too: an act under way (asked to confirm, or sent and about to redraw the
  // page itself) must not be redrawn under the user by a refresh of its own. Listened for
  // from the first drawing on: a reviewer types while the alert's panel is still loading.
  let typing = false;
  // Focus counts too: a keyboard user tabbing through the actions would lose their place.
  for (const kind of ["input", "change", "click", "focusin"]) side.addEventListener(kind, () => { typing = true; });
  replace(view,
    h("h1", { "data-case-page": report.id, "data-title": t("case_state") }, h("span", { id: "child-name", ...typedText(childName(report)) }), badges(report)),
    // The case's fields and acts come before the alert in the page's order (what the
    // keyboard and a screen reader go through): Resolve is reached without crossing every
    // version's downloads. The alert is still drawn under its map (console.css).
    h("div", { class: "grid case-grid" }, mapBox, side, h("div", { id: "alert-details" })));
  const map = new CaseMap(mapBox);
  map.drawCase(report.report, report.sightings);
  side.append(caseFields(report));
  const acts = actions(report, reload);
  if (acts) side.append(acts);
  if (correctable(report) && (can("reports:submit") || can("reports:review"))) {
    side.append(correctionForm(report, reload));
  }
  if (takesSightings(report) && (can("reports:submit") || can("sightings:submit"))) {
    side.append(sightingForm(report.id, map, reload));
  }
  side.append(sightingsList(report, reload));
  if (can("audit:read")) {
    const timeline = await auditTimeline(caseId);
    if (stale()) return;
    side.append(timeline);
  }
  if (report.alert_id && can("alerts:read")) {
    const box = view.querySelector("#alert-details");
    let drawn = await drawAlert(box, report, map);
    if (stale()) return;
    // Drawn a moment after approval: looked for again until it is there.
    if (!drawn) every(1000, async () => { if (!drawn) drawn = await drawAlert(box, report, map); });
    // Closed a moment ago (resolved, cancelled): the engine takes the alert down a moment
    // later, and the page drawn meanwhile showed a found child's zone as a live alert for
    // good. Looked at again until it is down, then drawn again.
    if (report.status !== "approved") {
      every(1000, async () => {
        if (box.dataset.alertState !== "active") return;
        const alert = await get(`v1/alerts/${report.alert_id}`);
        if (alert.state !== "active") await drawAlert(box, report, map);
      });
    }
  }
  if (report.alert_id && can("deliveries:read")) {
    const box = h("section", { id: "deliveries" });
    view.append(box);
    deliveriesPanel(box, { alert_id: report.alert_id });
  }
  // What the page shows that others change: the status, the window (a renewal), the
  // sightings and whether each is confirmed, the alert.
  // Sightings by id: the API does not promise their order, and a mere reordering redrew the
  // page under the user.
  // The case's details too: another officer's correction.
  const shown = (r) => JSON.stringify([r.status, r.expires_at, r.alert_id, r.report,
    r.sightings.map((x) => [x.id, x.trusted]).sort((a, b) => (a[0] < b[0] ? -1 : 1))]);
  every(5000, async () => {
    const fresh = await get(`v1/reports/${caseId}`);
    if (shown(fresh) === shown(report)) return;
    if (!typing) return reload();
    if (view.querySelector("#case-changed")) return;
    view.prepend(h("p", { id: "case-changed", class: "changed", role: "status" }, t("case_changed"), " ",
      h("button", { type: "button", class: "secondary", "data-action": "show-changes", text: t("show_changes"), onclick: reload })));
  });
}
