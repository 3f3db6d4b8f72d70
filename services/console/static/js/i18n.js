// The interface in French, Arabic (right to left) and English. The alert texts themselves are
// shown as the API sent them, in its four languages.
import { MESSAGES } from "./messages.js";

const STORED = "tifli.language";
const LANGUAGES = ["fr", "ar", "en"];
let current = LANGUAGES.includes(localStorage.getItem(STORED)) ? localStorage.getItem(STORED) : "fr";

export function language() {
  return current;
}

export function setLanguage(code) {
  current = LANGUAGES.includes(code) ? code : "fr";
  localStorage.setItem(STORED, current);
  document.documentElement.lang = current;
  document.documentElement.dir = current === "ar" ? "rtl" : "ltr";
}

// The text for ``key`` in the current language, else in English, else ``fallback``.
export function t(key, fallback) {
  return MESSAGES[current][key] ?? MESSAGES.en[key] ?? fallback ?? key;
}
