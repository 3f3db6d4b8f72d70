// The public REST API, with the key the user signed in with. The key lives in this tab's
// session storage (gone when the tab closes) and goes out as a bearer token: no cookie, so
// another site cannot make the browser act with it.

const KEY = "tifli.key";

export const credentials = {
  get key() { return sessionStorage.getItem(KEY); },
  set(key) { sessionStorage.setItem(KEY, key); },
  clear() { sessionStorage.removeItem(KEY); },
};

export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem.detail || problem.title || `HTTP ${status}`;
    // The field errors the detail does not already spell out.
    const fieldErrors = (problem.errors || []).map((e) => `${e.field}: ${e.message}`)
      .filter((text) => !detail.includes(text)).join("; ");
    super([detail, fieldErrors].filter(Boolean).join(" — "));
    this.status = status;
    this.problem = problem;
  }
}

// How long an answer is waited for. A request left hanging (a server stalled, a connection
// lost without a word) kept a form's button greyed out for good; now it fails and says so,
// with the typing kept, and a form sent again with its idempotency key is acted on once.
const ANSWER_WITHIN_MS = 30_000;

async function call(path, { method = "GET", body, accept = "application/json", headers: extra = {}, contentType = "application/json" } = {}) {
  const headers = { Accept: accept, ...extra };
  if (credentials.key) headers.Authorization = `Bearer ${credentials.key}`;
  if (body !== undefined) headers["Content-Type"] = contentType;
  const response = await fetch(`../${path.replace(/^\//, "")}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "omit",
    cache: "no-store",
    signal: AbortSignal.timeout(ANSWER_WITHIN_MS),
  });
  if (!response.ok) {
    let problem = {};
    try { problem = await response.json(); } catch { /* not problem+json */ }
    throw new ApiError(response.status, problem);
  }
  return response;
}

export async function get(path) {
  return (await call(path)).json();
}

// ``idempotencyKey``: the same for every try of one act (a double click, a retry after a
// 503), so the API does it once. ``headers``: any others the act takes (If-Match).
export async function post(path, body = {}, idempotencyKey = null, headers = {}) {
  const sent = idempotencyKey ? { ...headers, "Idempotency-Key": idempotencyKey } : headers;
  return (await call(path, { method: "POST", body, headers: sent })).json();
}

// A correction: a JSON merge patch (RFC 7396), only what changed; null removes a field.
export async function patch(path, changes) {
  return (await call(path, { method: "PATCH", body: changes, contentType: "application/merge-patch+json" })).json();
}

export async function remove(path) {
  const response = await call(path, { method: "DELETE" });
  return response.status === 204 ? null : response.json();
}

// Files a bearer token guards cannot be plain links: fetched, then saved from a blob.
export async function download(path, filename, accept) {
  save(await (await call(path, { accept })).blob(), filename);
}

// Offers ``blob`` as a file to save.
export function save(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function query(params) {
  const entries = Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "");
  return entries.length ? `?${new URLSearchParams(entries)}` : "";
}
