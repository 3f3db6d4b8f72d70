// Who is signed in (the key's id, name, scopes and unit from GET /v1/keys/me) and the notice
// line every view writes its errors to.
import { ApiError } from "./api.js";

let signedIn = null;

export function setSignedIn(key) {
  signedIn = key;
}

export function signedInKey() {
  return signedIn;
}

export function can(scope) {
  return Boolean(signedIn && signedIn.scopes.includes(scope));
}

export function notify(message, ok = false) {
  const notice = document.getElementById("notice");
  notice.textContent = message;
  notice.className = ok ? "ok" : "";
  notice.hidden = !message;
}

export function reportError(error) {
  notify(error instanceof ApiError ? `${error.status} — ${error.message}` : String(error));
}
