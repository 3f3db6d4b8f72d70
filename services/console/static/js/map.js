// The map: no tiles (nothing loads from outside); the base map is Morocco's regions and
// provinces and foreign land from GET /v1/map/base when the API offers it, drawn as vectors.
// Points are circle markers (no image icons). Polygons are drawn without simplification
// (smoothFactor 0), so the path has every vertex the API sent.
import { get } from "./api.js";
import { h, replace, typedText } from "./dom.js";
import { t } from "./i18n.js";

// A tooltip's content as an element: Leaflet parses a string as HTML, and a place name is
// whatever the report (or any unit's patrol, for a sighting) typed.
const asText = (name) => h("span", typedText(name || ""));

// What each mark on the map is, in the order a reviewer reads them (swatches in console.css).
// The legend lists only those drawn: a case with no alert yet, or seen by a key that may not
// read its alert, has no polygon, zone, reach or corridor to name.
const LEGEND = ["sent", "exact", "circle", "corridor", "last_seen", "sighting_trusted", "sighting_untrusted"];

const COLORS = {
  region: { color: "#8a9aab", weight: 1, fillColor: "#eef1e6", fillOpacity: 1 },
  province: { color: "#b7c2cc", weight: 0.5, fill: false },
  foreign: { color: "#b0b0b0", weight: 0.5, fillColor: "#e2e2e2", fillOpacity: 1 },
};
let baseMap; // fetched once per page load
export const MOROCCO = [[20.7, -17.2], [36.0, -1.0]];

export function leaflet() {
  if (!window.L) throw new Error("the map library did not load");
  return window.L;
}

async function baseLayer(L) {
  if (baseMap === undefined) {
    try {
      baseMap = await get("v1/map/base");
    } catch {
      baseMap = null; // an API without a base map: the layers alone
    }
  }
  if (!baseMap) return null;
  return L.geoJSON(baseMap, {
    interactive: false,
    style: (feature) => COLORS[feature.properties.layer] || COLORS.province,
  });
}

// The base map under whatever ``map`` draws; ``container`` says ``data-base-map="drawn"``
// once it is there.
export function drawBaseMap(L, map, container) {
  baseLayer(L).then((layer) => {
    if (layer) {
      layer.addTo(map);
      layer.bringToBack();
      container.dataset.baseMap = "drawn";
    }
  });
}

export class CaseMap {
  constructor(container) {
    const L = leaflet();
    this.L = L;
    this.container = container;
    this.map = L.map(container, { preferCanvas: false, attributionControl: false, zoomControl: false, zoomSnap: 0.25 });
    // Named in the interface's language: Leaflet's own controls speak English.
    container.setAttribute("role", "region");
    container.setAttribute("aria-label", t("map"));
    L.control.zoom({ zoomInTitle: t("zoom_in"), zoomOutTitle: t("zoom_out") }).addTo(this.map);
    this.map.fitBounds(MOROCCO);
    this.layers = L.layerGroup().addTo(this.map);
    this.pick = null;
    this.pickMarker = null;
    this.map.on("click", (event) => this._picked(event.latlng));
    this.marks = { case: [], alert: [] };  // what ``drawCase`` and ``drawAlert`` drew last
    this._legend();
    drawBaseMap(L, this.map, container);
  }

  _legend() {
    const legend = this.L.control({ position: "bottomright" });
    legend.onAdd = () => {
      this.legend = h("ul", { class: "map-legend", id: "map-legend" });
      this.L.DomEvent.disableClickPropagation(this.legend);
      return this.legend;
    };
    legend.addTo(this.map);
    this._listMarks();
  }

  // The legend of what the map now shows; none while it shows nothing of its own.
  _listMarks() {
    const shown = new Set([...this.marks.case, ...this.marks.alert]);
    const marks = LEGEND.filter((mark) => shown.has(mark));
    replace(this.legend, marks.map((mark) => h("li", {}, h("span", { class: `swatch ${mark}` }), t(`legend.${mark}`))));
    this.legend.hidden = !marks.length;
  }

  // Called with {lat, lon} when the user clicks the map (e.g. to place a sighting).
  onPick(callback) {
    this.pick = callback;
  }

  clearPick() {
    if (this.pickMarker) this.pickMarker.remove();
    this.pickMarker = null;
  }

  _picked(latlng) {
    if (!this.pick) return;
    if (this.pickMarker) this.pickMarker.remove();
    this.pickMarker = this.L.circleMarker(latlng, { radius: 7, color: "#000", fillColor: "#ffd400", fillOpacity: 1, className: "picked" }).addTo(this.map);
    this.pick({ lat: Number(latlng.lat.toFixed(5)), lon: Number(latlng.lng.toFixed(5)) });
  }

  // The case's own points: last seen and sightings. They are left out of the tab order and
  // of what a screen reader lists (a marker with a tooltip is focusable in Chromium): each is
  // said in words next to the map, the last seen place and time among the case's fields, each
  // sighting as a row of the sightings table with its time, place, trust and heading. A marker
  // could only repeat less of that, nameless or not, and each was one more stop between the
  // map and the case's actions. A pointer still opens its tooltip.
  drawCase(report, sightings) {
    const L = this.L;
    this.points = L.layerGroup().addTo(this.layers);
    const lastSeen = report?.last_seen?.location;
    if (lastSeen) {
      L.circleMarker([lastSeen.lat, lastSeen.lon], { radius: 7, color: "#b3261e", fillOpacity: 0.9, className: "last-seen" })
        .bindTooltip(asText(report.last_seen.place_name), { direction: "top" }).addTo(this.points);
    }
    for (const s of sightings) {
      L.circleMarker([s.location.lat, s.location.lon], { radius: 6, color: s.trusted ? "#1e7a3a" : "#7a5b00", fillOpacity: 0.8, className: "sighting" })
        .bindTooltip(asText(s.place_name), { direction: "top" }).addTo(this.points);
    }
    this.points.eachLayer(shownInWordsElsewhere);
    this.marks.case = [lastSeen && "last_seen", sightings.some((s) => s.trusted) && "sighting_trusted", sightings.some((s) => !s.trusted) && "sighting_untrusted"];
    this._listMarks();
    if (lastSeen && !this.zone) this.map.setView([lastSeen.lat, lastSeen.lon], 9, { animate: false });
  }

  // The caption a taken-down alert's map carries, in words on the map and in its name.
  _takenDown(down) {
    this.container.querySelector(".taken-down")?.remove();
    this.container.setAttribute("aria-label", down ? `${t("map")} — ${t("alert_down_map")}` : t("map"));
    this.container.dataset.takenDown = String(down);
    if (!down) return;
    const caption = h("p", { class: "taken-down", text: t("alert_down_map") });
    // A click on the caption is not a click on the map (which picks a sighting's point).
    this.L.DomEvent.disableClickPropagation(caption);
    this.container.append(caption);
  }

  // One version of the alert: the exact zone, the polygon sent, each location's circle, the
  // heading corridor. ``down``: the alert is no longer up (the child found, or its time over):
  // the zone is drawn faded, and the map says so, lest it be read as a live alert.
  drawAlert(message, exact, down = false) {
    const L = this.L;
    if (this.zone) this.zone.remove();
    this.zone = L.layerGroup().addTo(this.layers);
    this._takenDown(down);
    const area = message.area;
    if (exact) {
      // The zone on the territory, under the polygon sent: what lies between is the overshoot.
      L.geoJSON(exact, { style: { color: "#1e7a3a", weight: 1, fillColor: "#1e7a3a", fillOpacity: 0.2, className: "zone-exact" }, interactive: false }).addTo(this.zone);
    }
    for (const circle of area.circles) {
      L.circle([circle.center.lat, circle.center.lon], { radius: circle.radius_km * 1000, color: "#0b5cab", weight: 1, dashArray: "4 4", fill: false, interactive: false, className: "zone-circle" }).addTo(this.zone);
    }
    const sentColor = down ? "#6b6b6b" : "#b3261e";
    const sent = L.geoJSON(area.geojson, {
      style: { color: sentColor, weight: 2, dashArray: down ? "6 4" : null, fillColor: sentColor, fillOpacity: down ? 0.05 : 0.15, smoothFactor: 0, noClip: true, className: "zone-sent" },
      interactive: false,
    }).addTo(this.zone);
    const heading = message.last_seen?.heading_deg;
    const from = message.last_seen?.point;
    const towards = heading !== null && heading !== undefined && from;
    if (towards) {
      L.polygon(corridor(from, heading, area.circle.radius_km), { color: "#6a3d9a", weight: 1, fillOpacity: 0.08, dashArray: "2 4", interactive: false, className: "corridor" }).addTo(this.zone);
    }
    this.marks.alert = ["sent", exact && "exact", area.circles.length && "circle", towards && "corridor"];
    this._listMarks();
    if (this.points) this.points.eachLayer((p) => p.bringToFront());
    this.map.fitBounds(sent.getBounds(), { padding: [20, 20], animate: false });
    this.container.dataset.sequence = String(message.sequence);
  }
}

function shownInWordsElsewhere(marker) {
  const el = marker.getElement();
  el.setAttribute("tabindex", "-1");
  el.setAttribute("aria-hidden", "true");
}

// A 30° wedge along the heading, out to the zone's radius (spherical, enough for a picture).
function corridor(from, headingDeg, radiusKm) {
  const points = [[from.lat, from.lon]];
  for (let offset = -15; offset <= 15; offset += 5) {
    points.push(destination(from, headingDeg + offset, radiusKm));
  }
  return points;
}

function destination(from, bearingDeg, distanceKm) {
  const R = 6371.0088;
  const d = distanceKm / R;
  const b = (bearingDeg * Math.PI) / 180;
  const p1 = (from.lat * Math.PI) / 180;
  const l1 = (from.lon * Math.PI) / 180;
  const p2 = Math.asin(Math.sin(p1) * Math.cos(d) + Math.cos(p1) * Math.sin(d) * Math.cos(b));
  const l2 = l1 + Math.atan2(Math.sin(b) * Math.sin(d) * Math.cos(p1), Math.cos(d) - Math.sin(p1) * Math.sin(p2));
  return [(p2 * 180) / Math.PI, (l2 * 180) / Math.PI];
}
