// Times and durations in the interface's language.
import { language } from "./i18n.js";

export function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(language(), { dateStyle: "short", timeStyle: "medium" });
}

export function duration(ms) {
  const sign = ms < 0 ? "-" : "";
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400); s -= d * 86400;
  const hh = Math.floor(s / 3600); s -= hh * 3600;
  const mm = Math.floor(s / 60); s -= mm * 60;
  const parts = d ? [`${d}d`, `${hh}h`] : hh ? [`${hh}h`, `${mm}min`] : [`${mm}min`, `${s}s`];
  return sign + parts.join(" ");
}

export function since(iso, now = Date.now()) {
  return iso ? duration(now - new Date(iso).getTime()) : "";
}

export function km(value) {
  return `${Number(value).toLocaleString(language(), { maximumFractionDigits: 1 })} km`;
}

export function metres(value) {
  return `${Number(value).toLocaleString(language(), { maximumFractionDigits: 0 })} m`;
}

export function percent(share) {
  return `${(share * 100).toLocaleString(language(), { maximumFractionDigits: 1 })} %`;
}
