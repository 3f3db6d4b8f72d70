// Adding a sighting: a point clicked on the map, or a place name typed (Arabic or French,
// which the API looks up in its gazetteer), trusted or not, with a heading or a destination.
// A key that may only add sightings (sightings:submit) reaches any unit's case by its
// reference, and its sightings go untrusted until the case's unit or a reviewer confirms them.
import { ApiError, post } from "../api.js";
import { h, replace } from "../dom.js";
import { t } from "../i18n.js";
import { showSending } from "../sending.js";
import { CaseMap } from "../map.js";
import { checkFields, clearFieldErrors, markField, markFieldErrors } from "../field_errors.js";
import { numberField, numberOf, requireBoth } from "../inputs.js";
import { can, notify, reportActError, reportFieldErrors } from "../session.js";
import { clockName, followClock, fromWallClock, toWallClock } from "../zone.js";

// Where each field of a sighting (by its path in the API) is typed in the form.
const SIGHTING_FIELDS = {
  place_name: "sighting-place", at: "sighting-at", "location.lon": "sighting-lon", location: "sighting-lat",
  heading_deg: "sighting-heading", destination: "sighting-destination", description: "sighting-description",
  trusted: "sighting-trusted",
};

// ``caseId``: a string, or a function giving it when the form is sent. ``mayTrust``: whether
// the key may send it trusted (its own unit's case with reports:submit).
export function sightingForm(caseId, map, reload, mayTrust = can("reports:submit")) {
  // Typed (coordinates read off a GPS) or filled in by a click on the map.
  const lat = numberField("sighting-lat", { min: -90, max: 90, size: 9 });
  const lon = numberField("sighting-lon", { min: -180, max: 180, size: 9 });
  // When it was seen, on the alert zone's clock: a sighting reported late is not "now".
  const seenAt = h("input", { type: "datetime-local", id: "sighting-at", required: true, value: toWallClock(Date.now()), "aria-describedby": "sighting-at-clock" });
  const place = h("input", { type: "text", id: "sighting-place", maxlength: 500, placeholder: "Marrakech / مراكش" });
  const trusted = h("input", { type: "checkbox", id: "sighting-trusted" });
  const heading = numberField("sighting-heading", { min: 0, max: 359, size: 5 });
  const destination = h("input", { type: "text", id: "sighting-destination", maxlength: 500 });
  const description = h("input", { type: "text", id: "sighting-description", maxlength: 2000 });
  map.onPick((point) => {
    lat.value = point.lat;
    lon.value = point.lon;
  });
  const form = h("form", { class: "panel", id: "sighting-form", novalidate: true },
    h("h2", { text: t("add_sighting") }),
    h("small", { class: "hint", text: t("sighting_hint") }),
    h("div", { class: "row" }, h("label", { for: "sighting-lat", text: t("f.lat") }), lat, h("label", { for: "sighting-lon", text: t("f.lon") }), lon),
    h("label", { for: "sighting-place" }, t("f.place_name"), " ", place),
    h("label", { for: "sighting-at" }, t("f.sighting_at"), " ", seenAt, " ", h("small", { class: "hint", id: "sighting-at-clock", text: clockName() })),
    mayTrust ? h("label", {}, trusted, " ", t("trusted_explained")) : h("small", { class: "hint", id: "sighting-untrusted", text: t("sighting_outside") }),
    h("div", { class: "row" },
      h("label", { for: "sighting-heading", text: t("heading") }), heading, h("span", { text: t("or") }),
      h("label", { for: "sighting-destination", text: t("f.destination") }), destination),
    h("label", { for: "sighting-description" }, t("f.description"), " ", description),
    h("p", {}, h("button", { type: "submit", id: "add-sighting", text: t("add_sighting") })));
  const send = form.querySelector("#add-sighting");
  const showClock = followClock(seenAt, form.querySelector("#sighting-at-clock"));
  // The time offered is now, for as long as the user has typed none: a case page left open
  // for an hour offered the time it was drawn at, and a sighting phoned in "just now" went
  // out an hour early (its zone grown from then, its order among sightings wrong).
  let timeTyped = false;
  seenAt.addEventListener("input", () => { timeTyped = true; });
  const offerNow = () => {
    if (timeTyped) return;
    seenAt.value = toWallClock(Date.now());
    showClock();
  };
  form.addEventListener("focusin", offerNow);
  // Disabled while it is sent: a double click adds one sighting. One key per sighting: sent
  // again after an answer that never came (a 503, a dropped connection), it is added once.
  let idempotencyKey = crypto.randomUUID();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (send.disabled) return;
    offerNow();
    requireBoth(lat, lon);
    const unchecked = checkFields(form);
    if (unchecked.length) return reportFieldErrors({ labels: unchecked });
    // Held from the first try on: sent again under the same Idempotency-Key after a lost
    // answer, a time moved on to the next minute would be another request (a 422).
    timeTyped = true;
    const body = { at: fromWallClock(seenAt.value).toISOString(), trusted: mayTrust && trusted.checked };
    if (lat.value && lon.value) body.location = { lat: numberOf(lat), lon: numberOf(lon) };
    if (place.value.trim()) body.place_name = place.value.trim();
    if (heading.value) body.heading_deg = numberOf(heading);
    else if (destination.value.trim()) body.destination = { place_name: destination.value.trim() };
    if (description.value.trim()) body.description = description.value.trim();
    const sendingDone = showSending(send);
    try {
      const id = typeof caseId === "function" ? caseId() : caseId;
      await post(`v1/reports/${encodeURIComponent(id)}/sightings`, body, idempotencyKey);
      idempotencyKey = crypto.randomUUID();  // the next sighting is another one
      notify(t("sighting_ok"), true);
      clearFieldErrors(form);
      reload();
      timeTyped = false;  // the form may stay for the next one, offered now again
      offerNow();
    } catch (error) {
      // By reference, a 404 is a reference no case has: a key that may only add sightings
      // reaches every unit's cases, so it is never "not this unit's".
      const unknownCase = typeof caseId === "function" && error instanceof ApiError && error.status === 404;
      const marked = unknownCase
        ? markField(form.querySelector("#case-ref"), t("case_ref_unknown"))
        : markFieldErrors(form, error, SIGHTING_FIELDS);
      if (marked.labels.length) reportFieldErrors(marked);
      else reportActError(error);
    } finally {
      sendingDone();
    }
  });
  return form;
}

export function showSightingByReference(view) {
  const reference = h("input", { type: "text", id: "case-ref", required: true, size: 40, maxlength: 64, autocomplete: "off", dir: "ltr", "aria-describedby": "case-ref-hint" });
  const mapBox = h("div", { id: "map" });
  const side = h("div", { id: "side" });
  replace(view, h("h1", { text: t("nav.sighting") }), h("div", { class: "grid" }, mapBox, side));
  const map = new CaseMap(mapBox);
  const form = sightingForm(() => reference.value.trim(), map, () => {
    form.reset();
    map.clearPick();
  }, false);
  form.querySelector("h2").after(h("label", { for: "case-ref" }, t("case_ref"), " ", reference),
    h("small", { class: "hint", id: "case-ref-hint", text: t("case_ref_hint") }));
  side.append(form);
}
