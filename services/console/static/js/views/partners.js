// Partners (admin keys): list, status, registration with the handshake, a test event,
// secret rotation (the new secret shown once), disabling.
import { get, post, remove } from "../api.js";
import { h, replace, scrollingRegion, typedText } from "../dom.js";
import { when } from "../format.js";
import { t } from "../i18n.js";
import { notify, reportActError, reportError, reportFieldErrors } from "../session.js";
import { checkFields, markFieldErrors } from "../field_errors.js";
import { ticket } from "../page.js";
import { confirmButton } from "./review.js";

// Where each field of a registration (by its name in the API) is typed.
const PARTNER_FIELDS = { name: "partner-name", url: "partner-url", verify_token: "partner-token" };

function secretNotice(secret) {
  return h("p", { class: "four-eyes", id: "partner-secret" }, t("secret_once"), " ", h("code", { dir: "ltr", text: secret }));
}

export async function showPartners(view) {
  const stale = ticket();
  const page = await get("v1/partners?limit=200");
  if (stale()) return;
  const after = h("div", {});
  const reload = () => showPartners(view).catch(reportError);
  const rows = page.items.map((p) => h("tr", { "data-partner": p.id },
    h("td", typedText(p.name)),
    h("td", { text: p.url }),
    h("td", {}, h("span", { class: `status ${p.status}`, text: t(`partner.${p.status}`, p.status) }), p.status_reason ? h("small", { class: "hint", text: p.status_reason }) : null,
      // Its Retry-After (429: its rate limit; 503: down) holds everything sent to it until then.
      p.paused_until ? h("small", { class: "hint", "data-paused": String(p.paused_by), text: `${t("paused_until")} ${when(p.paused_until)} (HTTP ${p.paused_by})` }) : null),
    h("td", { text: p.languages.join(", ") }),
    h("td", { text: when(p.verified_at) }),
    h("td", {},
      h("button", { type: "button", class: "secondary", "data-action": "test", text: t("test_event"), onclick: async () => {
        try {
          const ping = await post(`v1/partners/${p.id}/test`, {});
          notify(`${t("test_event")}: ${ping.delivered ? "✓" : "✗"} HTTP ${ping.status_code ?? "—"}${ping.error ? ` — ${ping.error}` : ""}`, Boolean(ping.delivered));
        } catch (error) { reportActError(error); }
      } }), " ",
      // A partner whose handshake failed is verified again once its endpoint is fixed.
      p.status === "unverified" ? h("button", { type: "button", class: "secondary", "data-action": "verify", text: t("verify_again"), onclick: async () => {
        try {
          const checked = await post(`v1/partners/${p.id}/verify`, {});
          await reload();
          if (checked.status === "active") notify(t("verified_ok"), true);
          else notify(`${t("handshake_failed")} ${checked.status_reason ?? ""}`);
        } catch (error) { reportActError(error); }
      } }) : null, " ",
      confirmButton(t("rotate"), t("confirm_rotate"), async () => {
        const rotated = await post(`v1/partners/${p.id}/rotate-secret`, {});
        replace(after, secretNotice(rotated.secret));
      }, "rotate", "secondary"), " ",
      p.status !== "disabled" ? confirmButton(t("disable"), t("confirm_disable"), async () => {
        await remove(`v1/partners/${p.id}`);
        reload();
      }, "disable", "danger") : null)));
  const name = h("input", { type: "text", id: "partner-name", required: true, maxlength: 200 });
  const url = h("input", { type: "text", id: "partner-url", required: true, size: 50 });
  const token = h("input", { type: "text", id: "partner-token", required: true, minlength: 8 });
  // Checked here, in the page's language (``field_errors``), not by the browser's bubbles.
  const register = h("form", { class: "panel", id: "register-partner", novalidate: true },
    h("h2", { text: t("register_partner") }),
    h("small", { class: "hint", text: t("handshake_hint") }),
    h("label", { for: "partner-name" }, t("name"), " ", name),
    h("label", { for: "partner-url" }, "URL ", url),
    h("label", { for: "partner-token" }, t("verify_token"), " ", token),
    h("p", {}, h("button", { type: "submit", text: t("register") })));
  register.addEventListener("submit", async (event) => {
    event.preventDefault();
    const unchecked = checkFields(register);
    if (unchecked.length) return reportFieldErrors({ labels: unchecked });
    try {
      const created = await post("v1/partners", { name: name.value.trim(), url: url.value.trim(), verify_token: token.value });
      await reload();
      // The secret is shown once whatever the handshake gave (it signs what the partner gets
      // once verified); a failed handshake is said first, with the partner's answer.
      const failed = created.status !== "active"
        ? h("p", { class: "error", id: "partner-handshake-failed", role: "alert" }, t("handshake_failed"), " ", h("small", { text: created.status_reason ?? "" }))
        : null;
      view.querySelector("#partner-after")?.replaceChildren(...[failed, secretNotice(created.secret)].filter(Boolean));
    } catch (error) {
      const marked = markFieldErrors(register, error, PARTNER_FIELDS);
      if (marked.labels.length) reportFieldErrors(marked);
      else reportActError(error);
    }
  });
  after.id = "partner-after";
  replace(view, h("section", {}, h("h1", { text: t("nav.partners") }),
    scrollingRegion(t("nav.partners"), { id: "partners" },
      h("table", {}, h("thead", {}, h("tr", {}, ["name", "URL", "th.status", "languages", "verified", "actions"].map((k) => h("th", { text: k === "URL" ? k : t(k) })))),
        h("tbody", {}, rows)))), after, register);
}
