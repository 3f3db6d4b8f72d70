// Deliveries: per partner, each version's status, its attempts (time, status code, latency,
// error) and next retry, refreshed every second; dead ones can be replayed (ops keys).
import { get, post, query } from "../api.js";
import { h, replace, replaceKeepingFocus, scrollingRegion, typedText } from "../dom.js";
import { milliseconds, when } from "../format.js";
import { t } from "../i18n.js";
import { every } from "../page.js";
import { can, notify, reportError } from "../session.js";

const REFRESH_MS = 1000;

async function partnerNames() {
  if (!can("partners:admin")) return new Map();
  const page = await get("v1/partners?limit=200");
  return new Map(page.items.map((p) => [p.id, p.name]));
}

const ATTEMPTS_SHOWN = 5;

// The latest attempts (a partner down for hours has hundreds): time, status, latency, error.
function attempts(delivery) {
  const log = delivery.attempt_log;
  const earlier = log.length - ATTEMPTS_SHOWN;
  return h("ol", { class: "attempts", start: Math.max(earlier, 0) + 1 },
    log.slice(-ATTEMPTS_SHOWN).map((a) => h("li", {
      text: [when(a.at), a.status_code ?? "—", milliseconds(a.latency_ms), a.error ?? ""].filter((x) => x !== "").join(" · "),
    })));
}

// ``withAlert``: the list of every alert's deliveries says which alert each is for.
function row(delivery, names, refresh, withAlert) {
  const replay = delivery.status === "dead" && can("deliveries:ops")
    ? h("button", { type: "button", "data-action": "replay", text: t("replay"), onclick: async () => {
      try { await post(`v1/deliveries/${delivery.id}/replay`, {}); notify(t("replayed_ok"), true); refresh(); } catch (error) { reportError(error); }
    } })
    : null;
  return h("tr", { "data-delivery": delivery.id, "data-partner": delivery.partner_id, "data-sequence": delivery.sequence, "data-event": delivery.event_type },
    h("td", typedText(names.get(delivery.partner_id) ?? delivery.partner_id)),
    h("td", {}, withAlert ? h("code", { class: "alert-ref", title: delivery.alert_id, text: delivery.alert_id.slice(0, 8) }) : null,
      withAlert ? " · " : null, `${delivery.sequence} — ${t(`event.${delivery.event_type}`, delivery.event_type)}`),
    h("td", {}, h("span", { class: `status ${delivery.status}`, text: t(`delivery.${delivery.status}`, delivery.status) })),
    h("td", { text: delivery.attempts }),
    h("td", {}, attempts(delivery)),
    h("td", { text: delivery.status === "pending" || delivery.status === "sending" ? when(delivery.next_attempt_at) : "" }),
    h("td", {}, replay));
}

// Draws the deliveries matching ``filter`` into ``box`` and keeps them current; returns what
// stops that (a new filter draws a new panel: the old one must stop asking for its list).
export function deliveriesPanel(box, filter = {}) {
  const table = scrollingRegion(t("nav.deliveries"), { class: "deliveries-table" });
  replace(box, h("h2", { text: t("nav.deliveries") }), table);
  let names = new Map();
  let shown = "";
  let live = true;
  const refresh = async () => {
    if (!names.size) names = await partnerNames();
    if (!live) return; // the filter changed meanwhile: its own list asks for itself
    const page = await get(`v1/deliveries${query({ ...filter, limit: 200 })}`);
    if (!live) return;
    const key = JSON.stringify(page.items.map((d) => [d.id, d.status, d.attempts]));
    if (key === shown && table.firstChild) return;
    shown = key;
    replaceKeepingFocus(table, "data-delivery", page.items.length
      ? h("table", {},
        h("thead", {}, h("tr", {}, ["partner", "version", "th.status", "attempts", "attempt_log", "next_retry", "actions"].map((k) => h("th", { text: t(k) })))),
        h("tbody", {}, page.items.map((d) => row(d, names, refresh, !filter.alert_id))))
      : h("p", { text: t("none") }));
  };
  const stop = every(REFRESH_MS, refresh);
  return () => { live = false; stop(); };
}

export function showDeliveries(view) {
  const status = h("select", { id: "delivery-filter" }, h("option", { value: "", text: t("all") }),
    ["pending", "sending", "delivered", "dead", "superseded"].map((s) => h("option", { value: s, text: t(`delivery.${s}`) })));
  const box = h("section", { id: "deliveries" });
  replace(view, h("h1", { text: t("nav.deliveries") }),
    h("div", { class: "row" }, h("label", { for: "delivery-filter", text: t("filter") }), status), box);
  let stop = deliveriesPanel(box, {});
  status.addEventListener("change", () => {
    stop();
    stop = deliveriesPanel(box, { status: status.value });
  });
}
