// The console's frame: sign-in, the navigation the key's scopes allow, the language, and the
// hash routes (#/cases, #/cases/<id>, #/new, #/review, #/sighting, #/deliveries, #/partners).
// Each route names the scopes its calls need (all of them): a key is offered exactly what
// the API would let it do.
import { credentials, get } from "./api.js";
import { can, noticeOnArrival, notifyAfterMove, reportError, reportFieldErrors, setSignedIn, signedInKey, summary, whenKeyRefused } from "./session.js";
import { checkFields } from "./field_errors.js";
import { h, replace } from "./dom.js";
import { dropDraft, keepDraft, restoreDraft } from "./drafts.js";
import { t, setLanguage, language } from "./i18n.js";
import { arrive, leave, ticket } from "./page.js";
import { mayLeave } from "./unsent.js";
import { loadZone } from "./zone.js";
import { showCases, showNewCase } from "./views/cases.js";
import { showCase } from "./views/case.js";
import { showReviewQueue } from "./views/review.js";
import { showDeliveries } from "./views/deliveries.js";
import { showPartners } from "./views/partners.js";
import { showSightingByReference } from "./views/sightings.js";

const view = document.getElementById("view");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
const signOut = document.getElementById("sign-out");
const languageSelect = document.getElementById("language");

const ROUTES = [
  { path: /^#\/cases\/([\w-]+)$/, show: (m) => showCase(view, m[1]), scopes: ["reports:read"] },
  { path: /^#\/new$/, show: () => showNewCase(view), scopes: ["reports:submit"], label: "nav.new" },
  // The queue is a list of cases: reviewing needs reading them too.
  { path: /^#\/review$/, show: () => showReviewQueue(view), scopes: ["reports:review", "reports:read"], label: "nav.review" },
  // Any unit's case by its reference, for a key that may add sightings but not read cases.
  { path: /^#\/sighting$/, show: () => showSightingByReference(view), scopes: ["sightings:submit"], label: "nav.sighting" },
  { path: /^#\/deliveries$/, show: () => showDeliveries(view), scopes: ["deliveries:read"], label: "nav.deliveries" },
  { path: /^#\/partners$/, show: () => showPartners(view), scopes: ["partners:admin"], label: "nav.partners" },
  { path: /^#\/cases$/, show: () => showCases(view), scopes: ["reports:read"], label: "nav.cases" },
];

function allowed(route) {
  return route.scopes.every(can);
}

function drawNav() {
  const links = [...ROUTES].reverse().filter((r) => r.label && allowed(r)).map((r) =>
    h("a", { href: r.path.source.replace(/^\^|\$$/g, "").replaceAll("\\/", "/"), "data-nav": r.label, text: t(r.label) }));
  replace(nav, links);
  for (const link of links) {
    const current = link.getAttribute("href") === location.hash;
    link.classList.toggle("current", current);
    if (current) link.setAttribute("aria-current", "page");
  }
  const me = signedInKey();
  who.textContent = me ? `${me.name}${me.unit ? ` (${me.unit})` : ` (${t("national")})`}` : "";
  signOut.hidden = !me;
  signOut.textContent = t("sign_out");
}

function home() {
  const first = [...ROUTES].reverse().find((r) => r.label && allowed(r));
  return first ? first.path.source.replace(/^\^|\$$/g, "").replaceAll("\\/", "/") : "#/";
}

let drawnHash = location.hash; // the page on screen: where a user who stays is put back

async function route() {
  drawnHash = location.hash;
  leave();
  noticeOnArrival();
  if (!signedInKey()) return showSignIn();
  drawNav();
  const match = ROUTES.map((r) => [r, r.path.exec(location.hash)]).find(([r, m]) => m && allowed(r));
  if (!match) {
    const start = home();
    if (start === "#/") return showNothing();
    location.hash = start;
    return;
  }
  const stale = ticket();
  const before = view.firstChild;
  try {
    await match[0].show(match[1]);
    // Drawn again meanwhile (the language changed while this page still loaded its history):
    // the draft is the newer drawing's to give back. Given here, it went to fields about to
    // be replaced, and the newer page came back without what was typed.
    if (stale()) return;
    restoreDraft(view, location.hash, unitOf(signedInKey()));
    arrive(view);
  } catch (error) {
    // Refused before it drew anything (a case of another unit, erased, mistyped): the page
    // on screen is still the one before, whose buttons act on what it shows, under this
    // page's address. Taken away, unless the user has moved on meanwhile, and the window's
    // title with it (it named the page before): it says the refusal, all the page shows.
    if (!stale() && view.firstChild === before) {
      replace(view);
      document.title = `${summary(error)} — Tifli`;
    }
    reportError(error);
  }
}

// A key whose scopes reach no page (keys:admin or audit:read alone): say so, not a blank page.
function showNothing() {
  const scopes = signedInKey().scopes;
  replace(view, h("p", { class: "panel", id: "nothing-here" }, t("nothing_here"), " ",
    h("code", { text: scopes.length ? scopes.join(", ") : t("no_scopes") })));
}

function showSignIn() {
  drawNav();
  const key = h("input", { type: "password", id: "api-key", autocomplete: "off", size: 60, required: true });
  // Checked here, in the page's language (``field_errors``), not by the browser's bubbles.
  const form = h("form", { class: "panel", id: "sign-in", novalidate: true },
    h("h1", { text: t("sign_in.title") }),
    h("label", { for: "api-key", text: t("sign_in.key") }), key,
    h("small", { class: "hint", text: t("sign_in.hint") }),
    h("p", {}, h("button", { type: "submit", text: t("sign_in.submit") })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // Spaces alone are no key: trimmed, they signed in with nothing, and nothing was said.
    if (!key.value.trim()) key.value = "";
    const unchecked = checkFields(form);
    if (unchecked.length) return reportFieldErrors({ labels: unchecked });
    credentials.set(key.value.trim());
    await loadKey();
    if (signedInKey()) route();
  });
  replace(view, form);
  document.title = `${t("sign_in.title")} — Tifli`;
  key.focus();
}

async function loadKey() {
  setSignedIn(null);
  if (!credentials.key) return;
  try {
    setSignedIn(await get("v1/keys/me"));
  } catch (error) {
    credentials.clear();
    reportError(error);
  }
}

// The unit whose drafts a key may be given back (national keys: null).
function unitOf(key) {
  return key?.unit ?? null;
}

function signOutNow() {
  credentials.clear();
  setSignedIn(null);
  // Replaced, not assigned: an assigned hash fires a hashchange whose route() would draw the
  // sign-in form again, over the one just drawn here that the user may be typing a key into.
  history.replaceState(null, "", "#/");
  route();
}

signOut.addEventListener("click", () => {
  dropDraft();
  signOutNow();
});
// A key revoked or expired while in use: back to the sign-in form, saying why, rather than
// pages that keep showing what the key may no longer read. What the user was typing (a case
// they were filing) waits for them: signed in again, they are back on that page with it.
whenKeyRefused(() => {
  keepDraft(view, location.hash, unitOf(signedInKey()));
  credentials.clear();
  setSignedIn(null);
  notifyAfterMove(t("error.key_refused"));
  route();
});

// The page is drawn again in the new language, with what was typed into it. Chosen with the
// arrow keys on the closed menu, a language is only the one about to be chosen: the page
// changes once the user confirms it (Enter) or moves on, not at each step past the languages
// before it.
let browsing = false;
function applyLanguage() {
  browsing = false;
  if (languageSelect.value === language()) return;
  keepDraft(view, location.hash, unitOf(signedInKey()));
  setLanguage(languageSelect.value);
  languageSelect.setAttribute("aria-label", t("language"));
  route();
}
languageSelect.addEventListener("keydown", (event) => {
  if (event.key === "Enter") applyLanguage();
  // Alt+arrow opens the list instead: a choice made in it is a choice (its change applies).
  else if (!event.altKey && (event.key.startsWith("Arrow") || ["Home", "End", "PageUp", "PageDown"].includes(event.key))) browsing = true;
});
// A pointer picks from the opened list: that is a choice too.
languageSelect.addEventListener("pointerdown", () => { browsing = false; });
languageSelect.addEventListener("change", () => { if (!browsing) applyLanguage(); });
languageSelect.addEventListener("blur", () => { if (browsing) applyLanguage(); });

// Moving to another page with typing not sent asks first; staying puts the address back (the
// page drawn is still the one it names).
window.addEventListener("hashchange", () => {
  if (mayLeave()) route();
  else history.replaceState(null, "", drawnHash);
});

setLanguage(language());
languageSelect.value = language();
languageSelect.setAttribute("aria-label", t("language"));
await Promise.all([loadZone(), loadKey()]);
route();
