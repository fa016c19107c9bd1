// The admin API (docs/admin-openapi.yaml): `${apiUrl}/admin/v1`, the console's token as
// `Authorization: Bearer`, `If-Match` with the ETag read when changing a versioned resource.
// Every failure is an ApiError carrying the API's `error` code and `message`; a 401 sends the
// person through the bridge's sign-in again, a 403 that shuts them out tells the app.
import { apiUrl, signIn, token, tokenExpired, tokenIsFresh } from "./auth.js";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.apiMessage = message || "";
  }
}

/** 403 codes that mean the person may not use the console at all. */
export const SHUT_OUT = ["no_role", "second_factor_required"];

const listeners = new Set();
/** `callback(code)` when the API says the person may not use the console. */
export function onShutOut(callback) {
  listeners.add(callback);
  return () => listeners.delete(callback);
}

function reauthenticate() {
  // A token refused right after it arrived would come back refused again: say so instead.
  if (tokenIsFresh()) return new ApiError(401, "sign_in_loop", "");
  signIn();
  return new ApiError(401, "unauthorized", "");
}

/**
 * Calls the admin API. Returns `{ data, etag }`; throws ApiError.
 * @param {string} path  such as `/apps/support`
 * @param {{method?: string, body?: unknown, ifMatch?: string, query?: Record<string, unknown>}} options
 */
export async function api(path, { method = "GET", body, ifMatch, query } = {}) {
  if (tokenExpired()) throw reauthenticate();
  const url = new URL(`${apiUrl}/admin/v1${path}`);
  for (const [k, v] of Object.entries(query || {})) if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  const headers = { Authorization: `Bearer ${token()}`, Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (ifMatch) headers["If-Match"] = ifMatch;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "");
  }
  if (response.status === 401) throw reauthenticate();
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const code = data && typeof data.error === "string" ? data.error : "default";
    const message = data && typeof data.message === "string" ? data.message : "";
    if (response.status === 403 && SHUT_OUT.includes(code)) listeners.forEach((l) => l(code));
    throw new ApiError(response.status, code, message);
  }
  return { data, etag: response.headers.get("ETag") };
}

/** A path segment, encoded. */
export const seg = (value) => encodeURIComponent(value);
