// Correcting an open case (PATCH /v1/reports/{id}): what a reviewer finds missing before it
// can be approved (the guardian's consent, a longer description, a photo), or what the unit
// learns since (clothing, a vehicle, a companion, the guardian's phone). Only what changed is
// sent, as a JSON merge patch; the API checks the whole corrected case, and decides who may
// correct what (once the alert is out, a change of what partners show needs a reviewer who
// did not file the case, and goes out as an Update).
import { patch } from "../api.js";
import { h } from "../dom.js";
import { checkFields, markFieldErrors } from "../field_errors.js";
import { t } from "../i18n.js";
import { showSending } from "../sending.js";
import { can, notify, reportActError, reportFieldErrors, signedInKey } from "../session.js";
import { input } from "../inputs.js";
import { guard, sent } from "../unsent.js";

// The criteria of approval a correction can meet, and where: what approval finds missing
// (``review.js``), and what a correction of a live alert may not take away.
export const CRITERIA_FIELDS = {
  "criteria.enough_descriptive_information": "fix-description",
  "criteria.guardian_consent_recorded": "fix-consent",
};

// Where each corrected field (by its path in the API) is typed in this form.
const CORRECTED_FIELDS = {
  "child.description": "fix-description", "child.clothing": "fix-clothing",
  "child.photo_urls": "fix-photo-url", companion: "fix-companion",
  "suspected_vehicle.plate": "fix-plate", suspected_vehicle: "fix-vehicle",
  "guardian.name": "fix-guardian-name", "guardian.phone": "fix-guardian-phone",
  "guardian.consent_to_publication": "fix-consent", ...CRITERIA_FIELDS,
};

// A case is corrected while it is open (an expired or closed one is a 409).
export function correctable(report) {
  return ["submitted", "approved"].includes(report.status) && Boolean(report.report);
}

// A textarea gives back line breaks as "\n" whatever was stored ("\r\n" from another client):
// compared as typed, an untouched description would count as corrected.
function sameText(typed, stored) {
  return typed === (stored ?? "").replaceAll("\r\n", "\n").trim();
}

// The merge patch from what the case holds to what the form holds: only the fields changed;
// a field emptied is removed (null). The first photo is the one shown and corrected here;
// the others stay.
function changes(r, form) {
  const v = (id) => form.querySelector(`#${id}`).value.trim();
  const out = {};
  const child = {};
  if (!sameText(v("fix-description"), r.child.description)) child.description = v("fix-description");
  if (!sameText(v("fix-clothing"), r.child.clothing)) child.clothing = v("fix-clothing") || null;
  const photos = r.child.photo_urls ?? [];
  if (v("fix-photo-url") !== (photos[0] ?? "")) {
    const rest = photos.slice(1);
    child.photo_urls = v("fix-photo-url") ? [v("fix-photo-url"), ...rest] : rest;
  }
  if (Object.keys(child).length) out.child = child;
  if (!sameText(v("fix-companion"), r.companion)) out.companion = v("fix-companion") || null;
  const vehicle = r.suspected_vehicle ?? {};
  if (v("fix-vehicle") !== (vehicle.description ?? "") || v("fix-plate") !== (vehicle.plate ?? "")) {
    // Replaced whole: a plate is said with the vehicle it is on.
    out.suspected_vehicle = v("fix-vehicle") || v("fix-plate") ? { description: v("fix-vehicle"), plate: v("fix-plate") || null } : null;
  }
  if (r.guardian) {
    const guardian = {};
    if (v("fix-guardian-name") !== r.guardian.name) guardian.name = v("fix-guardian-name");
    if (v("fix-guardian-phone") !== r.guardian.phone) guardian.phone = v("fix-guardian-phone");
    const consent = form.querySelector("#fix-consent").checked;
    if (consent !== Boolean(r.guardian.consent_to_publication)) guardian.consent_to_publication = consent;
    if (Object.keys(guardian).length) out.guardian = guardian;
  }
  return out;
}

export function correctionForm(report, reload) {
  const r = report.report;
  const published = report.status !== "submitted";
  // Once the alert is out, what partners show is for a reviewer who did not file the case
  // to correct (four eyes, as the API decides: intake_api/access.py): any other key is
  // offered the guardian's fields only, not fields the API would refuse.
  const me = signedInKey();
  const filed = Boolean(me && report.submitted_by_key === me.id);
  const shown = published && (!can("reports:review") || filed) ? { disabled: true } : {};
  const vehicle = r.suspected_vehicle ?? {};
  const form = h("form", { id: "correct-case", novalidate: true },
    h("p", { class: "hint", id: "correct-hint", text: t(published ? "correct_hint_published" : "correct_hint") }),
    input("fix-description", "f.description", { rows: 2, required: true, value: r.child.description, "aria-describedby": "fix-description-hint", ...shown }),
    h("small", { class: "hint", id: "fix-description-hint", text: t("description_hint") }),
    input("fix-clothing", "f.clothing", { maxlength: 500, value: r.child.clothing ?? "", ...shown }),
    input("fix-photo-url", "f.photo_url", { type: "url", maxlength: 2000, placeholder: "https://", dir: "ltr", value: (r.child.photo_urls ?? [])[0] ?? "", ...shown }),
    h("div", { class: "row" },
      input("fix-vehicle", "f.vehicle", { maxlength: 500, value: vehicle.description ?? "", ...shown }),
      input("fix-plate", "f.plate", { maxlength: 20, value: vehicle.plate ?? "", ...shown })),
    input("fix-companion", "f.companion", { maxlength: 500, value: r.companion ?? "", ...shown }),
    // The guardian's fields: restricted, they never leave the police (a case erased has none).
    r.guardian ? [
      input("fix-guardian-name", "f.guardian_name", { required: true, value: r.guardian.name }),
      input("fix-guardian-phone", "f.guardian_phone", { required: true, type: "tel", dir: "ltr", value: r.guardian.phone }),
      h("label", {}, h("input", { type: "checkbox", id: "fix-consent", checked: r.guardian.consent_to_publication }), " ", t("f.consent")),
    ] : null,
    h("p", {}, h("button", { type: "submit", id: "save-correction", text: t("save_correction") })));
  const send = form.querySelector("#save-correction");
  // A plate alone would be dropped: it is said with the vehicle it is on.
  const vehicleField = form.querySelector("#fix-vehicle");
  const plateField = form.querySelector("#fix-plate");
  const plateNeedsVehicle = () => { vehicleField.required = Boolean(plateField.value.trim()); };
  plateField.addEventListener("input", plateNeedsVehicle);
  plateNeedsVehicle();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (send.disabled) return;
    const unchecked = checkFields(form);
    if (unchecked.length) return reportFieldErrors({ labels: unchecked });
    const corrected = changes(r, form);
    if (!Object.keys(corrected).length) return notify(t("nothing_changed"));
    const sendingDone = showSending(send);
    try {
      await patch(`v1/reports/${report.id}`, corrected);
      sent(form);
      notify(t(published ? "corrected_published_ok" : "corrected_ok"), true);
      reload();
    } catch (error) {
      sendingDone();
      const marked = markFieldErrors(form, error, CORRECTED_FIELDS);
      if (marked.labels.length) reportFieldErrors(marked);
      else reportActError(error);
    }
  });
  guard(form);
  // Folded away until wanted: the case's acts (Resolve first) stay near the top.
  return h("details", { id: "correction", class: "panel" }, h("summary", { text: t("correct_case") }), form);
}
