// The map a point is placed on (the new-case form's last-seen point), on the case page's base
// map: a click or a tap puts the marker there and fills the latitude and longitude fields,
// rounded to 5 decimals (about a metre); the marker can be dragged; coordinates typed move
// it. The fields stay the point's one record: the map only writes to them and follows them,
// so what is sent, kept over a change of language or refused by the API is what they hold.
// With the keyboard the map is one tab stop: the arrow keys move the marker (Shift: further),
// + and - zoom. The service area is drawn on it, a dashed line: the API refuses a point
// beyond (in its words, under the latitude, when the form is sent). While the fields hold no
// point, a place name typed is shown where the API will put the case filed with the name alone
// (``GET /v1/map/place``), a hollow marker: a name that means another town of that name, or
// none, is seen before anything is sent.
import { ApiError, get } from "./api.js";
import { h } from "./dom.js";
import { language, t } from "./i18n.js";
import { numberOf } from "./inputs.js";
import { MOROCCO, drawBaseMap, leaflet } from "./map.js";

const DECIMALS = 5;
// An arrow key's step in screen pixels, so it is finer as the map zooms in; Shift: five.
const STEP_PX = 10;
const ARROWS = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };

let serviceArea; // fetched once per page load

async function serviceAreaLayer(L) {
  if (serviceArea === undefined) {
    try {
      serviceArea = await get("v1/map/service-area");
    } catch {
      serviceArea = null; // the map without it: the API still refuses a point outside
    }
  }
  if (!serviceArea) return null;
  return L.geoJSON(serviceArea, { interactive: false, style: { color: "#0b5cab", weight: 1.5, dashArray: "6 4", fill: false, className: "service-area" } });
}

export function rounded(degrees) {
  return Number(degrees.toFixed(DECIMALS));
}

// The point the two fields hold, or null while either is empty, no number or out of range.
function typedPoint(latField, lonField) {
  const lat = numberOf(latField);
  const lon = numberOf(lonField);
  const valid = typeof lat === "number" && typeof lon === "number" && Math.abs(lat) <= 90 && Math.abs(lon) <= 180;
  return valid ? [lat, lon] : null;
}

export class PointMap {
  // ``container``: an element already in the page (Leaflet measures it); ``said``: where the
  // point placed is said in words, for a screen reader.
  constructor(container, latField, lonField, said) {
    const L = leaflet();
    this.L = L;
    this.latField = latField;
    this.lonField = lonField;
    this.said = said;
    // Leaflet's own keys pan the map: here the arrows move the marker instead.
    this.map = L.map(container, { attributionControl: false, zoomControl: false, zoomSnap: 0.25, keyboard: false });
    container.setAttribute("tabindex", "0");
    container.setAttribute("role", "application");
    container.setAttribute("aria-label", t("point_map"));
    L.control.zoom({ zoomInTitle: t("zoom_in"), zoomOutTitle: t("zoom_out") }).addTo(this.map);
    this.map.fitBounds(MOROCCO);
    drawBaseMap(L, this.map, container);
    serviceAreaLayer(L).then((layer) => {
      if (!layer) return;
      layer.addTo(this.map);
      container.dataset.serviceArea = "drawn";
      const hint = container.parentElement?.querySelector("#service-area-hint");
      if (hint) hint.hidden = false;
      container.setAttribute("aria-describedby", "last-seen-map-hint service-area-hint");
    });
    this.marker = null;
    this.named = null; // [lat, lon] of the place name typed, shown while no point is placed
    this.map.on("click", (event) => this._place(event.latlng));
    container.addEventListener("keydown", (event) => this._key(event));
    for (const field of [latField, lonField]) field.addEventListener("input", () => this._follow());
    this._follow();
  }

  // Where the place name typed puts the case (``[lat, lon]``, or null: none, or not one
  // place); shown while the fields hold no point.
  showNamed(point) {
    this.named = point;
    this._follow();
  }

  // The marker at ``latlng``, made on first use: a div, no image (nothing to load); hollow
  // when it shows the place name's point (``named``), not one placed.
  _show(latlng, named) {
    if (!this.marker) {
      const icon = this.L.divIcon({ className: "point-marker", iconSize: [18, 18] });
      this.marker = this.L.marker(latlng, { icon, draggable: true, keyboard: false }).addTo(this.map);
      // Its point is in the fields and said beside the map: a screen reader has nothing to read here.
      this.marker.getElement().setAttribute("aria-hidden", "true");
      this.marker.on("dragend", () => this._place(this.marker.getLatLng()));
    }
    this.marker.setLatLng(latlng);
    this.marker.getElement().classList.toggle("named", named);
  }

  _hide() {
    if (this.marker) this.marker.remove();
    this.marker = null;
  }

  // Placed on the map (click, tap, drag, arrow key): the fields take the point, as if typed
  // (a mark of theirs goes, the form counts as typed into), and the marker sits on it rounded.
  _place(latlng) {
    this.latField.value = String(rounded(latlng.lat));
    this.lonField.value = String(rounded(latlng.lng));
    for (const field of [this.latField, this.lonField]) field.dispatchEvent(new Event("input", { bubbles: true }));
  }

  // The fields changed (typed, restored, placed), or the place name's point: the marker
  // follows, kept in view.
  _follow() {
    const point = typedPoint(this.latField, this.lonField);
    if (!point && !this.named) {
      this._hide();
      this.said.textContent = "";
      return;
    }
    this._show(point ?? this.named, !point);
    this.map.panInside(point ?? this.named, { animate: false });
    // The place name's point is said with the name (``followPlaceName``), not here.
    this.said.textContent = point ? `${t("point_placed")} \u2066${point[0]}, ${point[1]}\u2069` : "";
  }

  _key(event) {
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const arrow = ARROWS[event.key];
    if (arrow) {
      const from = this.marker ? this.marker.getLatLng() : this.map.getCenter();
      const step = STEP_PX * (event.shiftKey ? 5 : 1);
      // Projected without rounding to whole pixels (as the container's points are): a step
      // east keeps the latitude.
      const to = this.map.project(from).add([arrow[0] * step, arrow[1] * step]);
      this._place(this.map.unproject(to));
    } else if (event.key === "+" || event.key === "=") {
      this.map.zoomIn();
    } else if (event.key === "-") {
      this.map.zoomOut();
    } else {
      return;
    }
    event.preventDefault();  // the page does not scroll under the map
  }
}

// The map's box, its hint and where the point is said: put in the form before ``PointMap``
// is made on ``#last-seen-map``.
export function pointMapBox() {
  return h("div", { class: "point-map-box" },
    h("small", { class: "hint", id: "last-seen-map-hint", text: t("point_map_hint") }),
    h("small", { class: "hint", id: "service-area-hint", hidden: true, text: t("service_area_hint") }),
    h("div", { id: "last-seen-map", class: "point-map", "aria-describedby": "last-seen-map-hint" }),
    h("small", { class: "hint", id: "last-seen-point", "aria-live": "polite", dir: "auto" }));
}

// The place name ``field`` looked up each time it is left changed (``GET /v1/map/place``):
// its point shown on ``map`` and said in ``said``, with the place's name and region in the
// page's language; a name the API would refuse without a point (no place of that name, or
// several) said so, with the places it may mean. An answer for a name typed over is dropped.
export function followPlaceName(field, said, map) {
  let asked = 0;
  const look = async () => {
    const name = field.value.trim();
    const mine = ++asked;
    let place = null;
    let refused = null;
    if (name) {
      try {
        place = await get(`v1/map/place?name=${encodeURIComponent(name)}`);
      } catch (error) {
        // Another failure (the server away) says nothing: filing will say it.
        refused = error instanceof ApiError && error.status === 422 ? error.problem : null;
      }
    }
    if (mine !== asked) return;
    map.showNamed(place ? [place.lat, place.lon] : null);
    said.textContent = place ? `${t("place_found")} ${placeLabel(place)}` : refused ? refusal(refused) : "";
  };
  field.addEventListener("change", look);
  if (field.value.trim()) look(); // restored with the form
}

// A place as the page's language writes it: its name, then its region.
function placeLabel(place) {
  const arabic = language() === "ar";
  const name = (arabic ? place.name_ar : null) ?? place.name_fr;
  const region = (arabic ? place.region.ar : place.region.fr) ?? place.region.code;
  return `\u2068${name}\u2069 (\u2068${region}\u2069)`;
}

function refusal(problem) {
  const candidates = problem.candidates ?? [];
  if (!candidates.length) return t("place_unknown");
  return `${t("place_not_one")} ${candidates.map(placeLabel).join(language() === "ar" ? "، " : "; ")}`;
}
