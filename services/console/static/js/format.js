// Times, durations and quantities in the interface's language, through the browser's Intl
// formatters: words, digits, separators and their order are the language's own, right to
// left included. Moroccan conventions (fr-MA, ar-MA: a 24-hour clock, day before month).
// Times are read on the alert zone's clock (zone.js), with its offset written beside them.
import { language } from "./i18n.js";
import { offsetLabel, wallClock } from "./zone.js";

const LOCALES = { fr: "fr-MA", ar: "ar-MA", en: "en-GB" };
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export function locale() {
  return LOCALES[language()] ?? "fr-MA";
}

// The offset is isolated: in a right-to-left line "UTC+1" keeps its order, apart from the date.
export function when(iso) {
  if (!iso) return "";
  const ms = new Date(iso).getTime();
  const text = wallClock(ms).toLocaleString(locale(), { dateStyle: "short", timeStyle: "medium", timeZone: "UTC" });
  return `${text} \u2068${offsetLabel(ms)}\u2069`;
}

// The two largest units that matter ("2 j et 3 h", "11 h et 59 min", "4 min et 12 s"):
// seconds only under an hour, where they still change what a reader does.
function parts(ms) {
  let left = Math.floor(Math.abs(ms) / SECOND) * SECOND;
  const days = Math.floor(left / DAY); left -= days * DAY;
  const hours = Math.floor(left / HOUR); left -= hours * HOUR;
  const minutes = Math.floor(left / MINUTE); left -= minutes * MINUTE;
  const seconds = Math.floor(left / SECOND);
  if (days) return { days, hours };
  if (hours) return { hours, minutes };
  return { minutes, seconds };
}

export function duration(ms) {
  const units = parts(ms);
  const shown = Object.fromEntries(Object.entries(units).filter(([, n]) => n));
  if (!Object.keys(shown).length) shown.seconds = 0;
  const text = new Intl.DurationFormat(locale(), { style: "short" }).format(shown);
  return ms < 0 ? `-${text}` : text;
}

// The same span as an ISO 8601 duration, for a <time datetime> a program can read.
export function isoDuration(ms) {
  const { days = 0, hours = 0, minutes = 0, seconds = 0 } = parts(ms);
  const time = `${hours ? `${hours}H` : ""}${minutes ? `${minutes}M` : ""}${seconds || (!days && !hours && !minutes) ? `${seconds}S` : ""}`;
  return `P${days ? `${days}D` : ""}${time ? `T${time}` : ""}`;
}

// "il y a 35 minutes", "قبل ساعتين", "3 hours ago": the largest whole unit, rounded down (a
// child seen 2 h 50 ago was not seen "3 hours ago"); the exact span is in the element's title.
export function ago(iso, now = Date.now()) {
  if (!iso) return "";
  const ms = Math.max(now - new Date(iso).getTime(), 0);
  const relative = new Intl.RelativeTimeFormat(locale(), { numeric: "auto" });
  if (ms >= 2 * DAY) return relative.format(-Math.floor(ms / DAY), "day");
  if (ms >= HOUR) return relative.format(-Math.floor(ms / HOUR), "hour");
  if (ms >= MINUTE) return relative.format(-Math.floor(ms / MINUTE), "minute");
  return relative.format(-Math.floor(ms / SECOND), "second");
}

// A <time> that says how long ago ``iso`` was, with the moment and the exact span on hover.
export function agoElement(iso, now = Date.now()) {
  const el = document.createElement("time");
  el.className = "ago";
  if (!iso) return el;
  el.dateTime = new Date(iso).toISOString();
  el.textContent = ago(iso, now);
  el.title = `${when(iso)} · ${duration(now - new Date(iso).getTime())}`;
  return el;
}

// Brings every such <time> under ``root`` up to date (a list redrawn only when its cases change).
export function refreshAgo(root, now = Date.now()) {
  for (const el of root.querySelectorAll("time.ago[datetime]")) {
    el.textContent = ago(el.dateTime, now);
    el.title = `${when(el.dateTime)} · ${duration(now - new Date(el.dateTime).getTime())}`;
  }
}

function unit(value, name, digits = 1, display = "short") {
  return Number(value).toLocaleString(locale(), { style: "unit", unit: name, unitDisplay: display, maximumFractionDigits: digits });
}

export function years(value) {
  return value === null || value === undefined ? "" : unit(value, "year", 0, "long");
}

// A child's age in years: as stated, or from the birth date a report may give instead.
export function childAge(child, today = new Date()) {
  if (child?.age !== null && child?.age !== undefined) return child.age;
  if (!child?.birth_date) return null;
  const [y, m, d] = child.birth_date.split("-").map(Number);
  const before = today.getUTCMonth() + 1 < m || (today.getUTCMonth() + 1 === m && today.getUTCDate() < d);
  return today.getUTCFullYear() - y - (before ? 1 : 0);
}

export function milliseconds(value) {
  return unit(Math.round(value), "millisecond", 0);
}

export function km(value) {
  return unit(value, "kilometer", 1);
}

export function metres(value) {
  return unit(value, "meter", 0);
}

// "A, B et C", "أ وب وج", "A, B and C": items joined as the language joins them.
export function list(items) {
  return new Intl.ListFormat(locale(), { style: "long", type: "conjunction" }).format(items);
}

export function percent(share) {
  return Number(share).toLocaleString(locale(), { style: "percent", maximumFractionDigits: 1 });
}
