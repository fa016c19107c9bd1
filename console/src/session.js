// The signed-in operator (GET /me), what their role may do, and a notice carried to the next page.
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export const Me = createContext(null);
export const useMe = () => useContext(Me);

/** The API's own rule (shared/src/admin/role.rs): admins change everything (and alone export
 * personal data: `exportPersonalData`), operators may also sign people out, activate or
 * deactivate the telephony hook, replay runs and reset the credentials (second factors,
 * password) of people without a console role (`resetCredentials`: the API checks the person),
 * viewers read. */
export const may = (me, action) =>
  Boolean(me) && (me.role === "admin" || action === "read" || (me.role === "operator" && ["signOut", "activateHook", "replayRun", "resetCredentials"].includes(action)));

let pending = null;
/** A notice (`{key, values}`) for the page navigated to next. */
export const flash = (notice) => {
  pending = notice;
};
export const takeFlash = () => {
  const notice = pending;
  pending = null;
  return notice;
};
