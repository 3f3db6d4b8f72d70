// Who is signed in (the key's id, name, scopes and unit from GET /v1/keys/me) and the notice
// line every view writes its errors to.
import { ApiError } from "./api.js";
import { language, t } from "./i18n.js";

let signedIn = null;
let carried = null;
let onRefused = () => {};

export function setSignedIn(key) {
  signedIn = key;
}

export function signedInKey() {
  return signedIn;
}

export function can(scope) {
  return Boolean(signedIn && signedIn.scopes.includes(scope));
}

// How many times the notice line was set: a poll clears the failure it said only if nothing
// was said since, even in the same words (an act refused as the server went away says what
// the poll said; the poll's next success must not take the act's failure away with its own).
let said = 0;

export function noticesSaid() {
  return said;
}

export function notify(message, ok = false) {
  said += 1;
  const notice = document.getElementById("notice");
  // Said again only when it changes: a poll failing every few seconds must not repeat
  // itself to a screen reader.
  if (notice.textContent === message && notice.classList.contains("ok") === ok) return;
  notice.textContent = message;
  notice.className = ok ? "ok" : "";
}

// What a user's own act was refused for, where they will meet it: the notice takes the
// focus, so it is read out and scrolled into view (a long form's button is far below it).
export function reportActError(error) {
  reportError(error);
  const notice = document.getElementById("notice");
  if (notice.textContent) notice.focus();
}

// A notice for the page an act moves to ("case submitted"): drawing that page clears the
// notices of the one before, so it is shown once the new page is drawn.
export function notifyAfterMove(message) {
  carried = message;
}

// What a page shows when it is drawn: the notice carried to it, if any.
export function noticeOnArrival() {
  const message = carried;
  carried = null;
  notify(message ?? "", Boolean(message));
}

// What to do when the API no longer takes the key (revoked or expired while signed in).
export function whenKeyRefused(act) {
  onRefused = act;
}

// The error in the interface's words alone (a window's title names a refused page by them).
export function summary(error) {
  if (!(error instanceof ApiError)) {
    // fetch's own failure ("Failed to fetch"): the network or the server is down.
    if (error instanceof TypeError) return t("error.network");
    if (error?.name === "TimeoutError") return t("error.timeout");  // ``api.js``
    return String(error?.message ?? error);
  }
  return t(`error.${error.status}`, t("error.other"));
}

// The error in the interface's words, then what the API said (its detail names the field).
export function describe(error) {
  if (!(error instanceof ApiError)) return summary(error);
  // The API's words isolated: English inside an Arabic line keeps its own order.
  return `${summary(error)} \u2068(${error.status}: ${error.message})\u2069${suggestions(error)}`;
}

// The places the API offers for a place name it cannot settle (" Did you mean: …"), or "".
function suggestions(error) {
  const region = (c) => c.region?.[language() === "ar" ? "ar" : "fr"];
  // Named in the page's language (GeoNames' own name is often the English one: "Tangier").
  const name = (c) => (language() === "ar" && c.name_ar) || c.name_fr || c.name;
  // With their coordinates: two places of one name are told apart by them, and can be sent.
  const where = (c) => [region(c), typeof c.lat === "number" ? `${c.lat.toFixed(4)}, ${c.lon.toFixed(4)}` : null].filter(Boolean).join(" — ");
  const candidates = (error?.problem?.candidates || [])
    .map((c) => (where(c) ? `${name(c)} (${where(c)})` : name(c))).filter(Boolean);
  return candidates.length ? ` ${t("error.candidates")} ${candidates.join(" · ")}` : "";
}

// Fields found at fault and marked in their form (``field_errors``): the notice names them by
// their labels, in the page's language, then what the API found with no field to mark (in
// its words, isolated), and the places it offers. The focus is already on the first field,
// whose message is read as its description.
export function reportFieldErrors({ labels, unmatched = [], error = null }) {
  const rest = unmatched.length
    ? ` \u2068(${unmatched.map((e) => `${e.field}: ${e.message}`).join("; ")})\u2069`
    : "";
  notify(`${t("error.fields")} ${labels.join(" · ")}.${rest}${suggestions(error)}`);
}

export function reportError(error) {
  notify(describe(error));
  if (error instanceof ApiError && error.status === 401 && signedIn) onRefused();
}
