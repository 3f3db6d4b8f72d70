// The alert beside its map: radius, vertices, overshoot, targeting, geocodes with their
// shares, the window with a countdown, the texts in the four alert languages, and the version
// history — each version selectable on the map, with its CAP and GeoJSON to download.
import { download, get, save } from "../api.js";
import { fields, h, replace, scrollingRegion } from "../dom.js";
import { duration, isoDuration, km, metres, percent, when } from "../format.js";
import { language, t } from "../i18n.js";
import { every } from "../page.js";
import { reportError } from "../session.js";

function countdown(moment, id, passed) {
  const out = h("time", { id });
  every(1000, () => {
    const left = new Date(moment).getTime() - Date.now();
    out.textContent = left > 0 ? duration(left) : passed;
    out.dateTime = left > 0 ? isoDuration(left) : "";
  });
  return out;
}

// Regions first, then provinces (the codes' two levels), each by its share of the zone: the
// places most concerned come first in a list that can run to dozens.
function byShare(shares) {
  const level = (g) => (/^MA-\d+$/.test(g.code) ? 0 : 1);
  return [...shares].sort((a, b) => level(a) - level(b) || b.share - a.share);
}

// A table's column headers, each naming its column for a screen reader moving along a row.
function columnHeads(keys) {
  return h("thead", {}, h("tr", {}, keys.map((key) => h("th", { scope: "col", text: t(key) }))));
}

// A geocode's row is named by the place, in the interface's language where it has one (the
// Arabic name on an Arabic page, the French name otherwise), not by its code.
function geocodeRow(g) {
  const rowHead = language() === "ar" ? "ar" : "fr";
  const name = (lang, text, props = {}) => (lang === rowHead
    ? h("th", { scope: "row", lang, text, ...props })
    : h("td", { lang, text, ...props }));
  return h("tr", {},
    h("td", { dir: "ltr", text: g.code }),
    name("fr", g.name_fr),
    name("ar", g.name_ar, { dir: "rtl" }),
    h("td", { text: percent(g.share) }));
}

function details(alert, message) {
  const area = message.area;
  return h("div", {},
    fields([
      [t("alert_state"), h("span", { class: `status ${alert.state}`, id: "alert-state", text: t(`alert.${alert.state}`) })],
      [t("version"), `${message.sequence} — ${t(`msg.${message.msg_type}`)}`],
      [t("radius"), km(area.circle.radius_km)],
      [t("vertices"), h("span", { id: "vertex-count", text: area.vertex_count })],
      [t("overshoot_land"), metres(area.overshoot_land_m)],
      [t("overshoot_sea"), area.overshoot_sea_m >= 1000 ? km(area.overshoot_sea_m / 1000) : metres(area.overshoot_sea_m)],
      [t("targeting"), t(`targeting.${area.targeting}`)],
      // A take-down's own expires runs on past it (it stays valid while it is retried): the
      // window it closed ended when it was sent.
      [t("window"), `${when(message.effective)} – ${when(message.msg_type === "Cancel" ? message.sent : message.expires)}`],
      [t("expires_in"), alert.state === "active" ? countdown(alert.expires, "countdown", t("expired_now")) : t(`alert.${alert.state}`)],
      [t("widens_in"), alert.next_widen_at ? countdown(alert.next_widen_at, "widen-countdown", t("widening_now")) : null],
    ]),
    h("h2", { text: t("geocodes") }),
    // In its own scrolling box, as every table: its names are wider than a phone.
    scrollingRegion(t("geocodes"), {}, h("table", { class: "geocodes" },
      columnHeads(["th.code", "th.name_fr", "th.name_ar", "th.share"]),
      h("tbody", {}, byShare(area.geocode_shares).map(geocodeRow)))),
    h("h2", { text: t("texts") }),
    // Each language named, and its short text too: what the public's phones show.
    h("div", { class: "texts" }, message.info.map((info) => h("section", { class: "text-block", "data-language": info.language },
      h("h3", { text: t(`lang.${info.language}`, info.language) }),
      h("div", { lang: info.language, dir: info.language === "ar" ? "rtl" : "ltr", class: "text" },
        h("strong", { text: info.headline }), h("p", { text: info.description }), h("small", { text: info.instruction })),
      h("small", { class: "hint", text: t("short_text") }),
      h("p", { lang: info.language, dir: info.language === "ar" ? "rtl" : "ltr", class: "short-text", text: info.short_text })))));
}

// An earlier version's sent polygon, as a GeoJSON Feature with what it was sent as.
async function versionZone(alertId, sequence) {
  const message = await get(`v1/alerts/${alertId}/versions/${sequence}`);
  const feature = {
    type: "Feature",
    geometry: message.area.geojson,
    properties: { alert_id: alertId, sequence, msg_type: message.msg_type, sent: message.sent, expires: message.expires, radius_km: message.area.circle.radius_km },
  };
  save(new Blob([JSON.stringify(feature)], { type: "application/geo+json" }), `${alertId}-${sequence}.geojson`);
}

export async function alertPanel(box, alertId, map) {
  const alert = await get(`v1/alerts/${alertId}`);
  const shown = h("div", { id: "alert-version" });
  const show = async (sequence) => {
    const [message, exact] = await Promise.all([
      sequence === alert.sequence ? alert.current : get(`v1/alerts/${alertId}/versions/${sequence}`),
      get(`v1/alerts/${alertId}/exact-zone?sequence=${sequence}`).catch(() => null),
    ]);
    map.drawAlert(message, exact, alert.state !== "active");
    replace(shown, details(alert, message));
  };
  // Each row named by its version ("2 — Update"), which its radio button chooses.
  const versions = h("table", { id: "versions" },
    columnHeads(["version", "th.sent", "th.downloads"]),
    h("tbody", {}, alert.history.map((v) => h("tr", { "data-sequence": v.sequence },
      h("th", { scope: "row" }, h("label", {}, h("input", { type: "radio", name: "version", value: v.sequence, checked: v.sequence === alert.sequence, onchange: () => show(v.sequence).catch(reportError) }), ` ${v.sequence} — ${t(`msg.${v.msg_type}`)}`)),
      h("td", { text: when(v.sent) }),
      h("td", {},
        h("button", { type: "button", class: "secondary", text: "CAP", onclick: () => download(`v1/alerts/${alertId}/cap?sequence=${v.sequence}`, `${alertId}-${v.sequence}.cap.xml`, "application/cap+xml").catch(reportError) }),
        " ",
        h("button", { type: "button", class: "secondary", text: "SVG", onclick: () => download(`v1/alerts/${alertId}/map.svg?sequence=${v.sequence}`, `${alertId}-${v.sequence}.svg`, "image/svg+xml").catch(reportError) }),
        " ",
        h("button", { type: "button", class: "secondary", "data-download": "geojson", text: "GeoJSON", onclick: () => (v.sequence === alert.sequence
          ? download(`v1/alerts/${alertId}/zone`, `${alertId}.geojson`, "application/geo+json").catch(reportError)
          : versionZone(alertId, v.sequence).catch(reportError)) }))))));
  replace(box, h("section", { id: "alert" }, h("h2", { text: t("alert") }), h("h2", { text: t("versions") }),
    // Its downloads make it wider than a phone: it scrolls in its own box.
    scrollingRegion(t("versions"), {}, versions), shown));
  await show(alert.sequence);
  box.dataset.alertState = alert.state; // the state drawn: the case page looks again while it lags
}
