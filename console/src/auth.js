// Signing in: the console is an app of the bridge. `${apiUrl}/sso/console` signs the person in
// (the form, then an SMS code) and redirects back to .../console/#jwt=<token>. The token is kept
// in sessionStorage (this tab only) and sent as `Authorization: Bearer`; it lives 10 minutes, and
// on expiry the console goes through /sso/console again (a live bridge session answers at once).

export const apiUrl = String((window.BRIDGE_CONFIG && window.BRIDGE_CONFIG.apiUrl) || "").replace(/\/+$/, "");

const TOKEN = "console.token";
const RECEIVED = "console.tokenReceived";
const RETURN = "console.return";
/** Set by `signIn` until its token comes back: a `#jwt=` nobody in this tab asked for is not taken. */
const PENDING = "console.signingIn";
/** A token the API refuses within this long of arriving is not worth another round trip. */
const LOOP_GUARD_MS = 30_000;

const session = {
  get: (k) => {
    try {
      return sessionStorage.getItem(k);
    } catch {
      return null;
    }
  },
  set: (k, v) => {
    try {
      sessionStorage.setItem(k, v);
    } catch {
      // Storage refused: the console works until the tab is reloaded.
    }
  },
  remove: (k) => {
    try {
      sessionStorage.removeItem(k);
    } catch {
      // As above.
    }
  },
};

/** The route (`/apps/x`) the hash names, if it names one. */
export function currentRoute() {
  const route = location.hash.replace(/^#/, "");
  return route.startsWith("/") ? route : "/";
}

/** Takes a token delivered in the fragment (`#jwt=...`, form-encoded), then puts the route the
 * person was on before signing in back in the address bar. Call before the router starts. Only
 * a token this tab asked for (`signIn`) is taken: one in a link from elsewhere (someone else's
 * console token, planted so that what the person does is recorded as theirs) is dropped. */
export function takeTokenFromFragment() {
  if (!location.hash.startsWith("#jwt=")) return;
  const token = new URLSearchParams(location.hash.slice(1)).get("jwt");
  const asked = session.get(PENDING) === "1";
  session.remove(PENDING);
  if (token && asked) {
    session.set(TOKEN, token);
    session.set(RECEIVED, String(Date.now()));
  }
  const saved = session.get(RETURN);
  session.remove(RETURN);
  const route = saved && /^\/[\w\-./:@%~]*$/.test(saved) ? saved : "/";
  history.replaceState(null, "", `${location.pathname}${location.search}#${route}`);
}

export const token = () => session.get(TOKEN);

/** The token's `exp` (seconds), read without verifying: only to skip a call bound to fail. */
function expiry(jwt) {
  try {
    const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp;
  } catch {
    return undefined;
  }
}

export function tokenExpired() {
  const jwt = token();
  const exp = jwt && expiry(jwt);
  return typeof exp === "number" && exp * 1000 <= Date.now();
}

/** Whether a refused token just arrived (signing in again would loop). */
export function tokenIsFresh() {
  const at = Number(session.get(RECEIVED) || 0);
  return Date.now() - at < LOOP_GUARD_MS;
}

/** Off to the bridge's sign-in, to come back to `route`. */
export function signIn(route = currentRoute()) {
  session.set(RETURN, route);
  session.set(PENDING, "1");
  session.remove(TOKEN);
  location.assign(`${apiUrl}/sso/console`);
}

/** The bridge's sign-out for the console (`/sso/console/logout`): it ends the bridge session,
 * then shows the form, whose next sign-in (asking for a password) comes back to the console. */
export const signOutUrl = () => `${apiUrl}/sso/console/logout`;

/** Ends the person's console tokens at the admin API (`POST /admin/v1/me/sign-out`), so that a
 * copy of this one (a `#jwt=` left in the browser's history) opens nothing after "Sign out".
 * Waits 5 s at most; a failure (this token expired, the API unreachable) is left to the bridge's
 * sign-out that follows, which ends them too while the bridge session lives. */
export async function endTokens() {
  const jwt = token();
  if (!jwt) return;
  try {
    await fetch(`${apiUrl}/admin/v1/me/sign-out`, {
      method: "POST",
      headers: { Authorization: `Bearer ${jwt}` },
      credentials: "omit",
      cache: "no-store",
      signal: AbortSignal.timeout(5000),
    });
  } catch {
    // As above: the bridge's sign-out follows.
  }
}

/** Before following `signOutUrl`: forgets the token, and takes the one the form's next sign-in
 * brings back to this tab (whoever signs in there). */
export function beforeSignOut() {
  session.remove(TOKEN);
  session.remove(RECEIVED);
  session.remove(RETURN);
  session.set(PENDING, "1");
}
