// What the console says back: errors (role="alert", localised per API error code, the API's
// own message otherwise; never a stack or JSON) and notices (role="status").
import { useI18n } from "../i18n.jsx";
import { messages } from "../messages.js";

/** Codes whose localised text is general: the API's message adds what exactly. */
const WITH_DETAIL = new Set(["invalid_request", "conflict", "unsupported_media_type", "too_many_requests", "unreadable"]);

export function errorText(t, error) {
  if (!error) return "";
  if (typeof error === "string") return t(error);
  const code = error.code || "default";
  if (code === "sign_in_loop") return t("signIn.loop");
  if (messages.en.errors[code]) return t(`errors.${code}`);
  return error.apiMessage || t("errors.default");
}

export function ErrorAlert({ error, id }) {
  const { t } = useI18n();
  if (!error) return null;
  const detail = typeof error === "object" && WITH_DETAIL.has(error.code) && error.apiMessage;
  return (
    <div class="alert" role="alert" id={id}>
      <p>{errorText(t, error)}</p>
      {detail && <p class="detail">{t("errorDetail", { message: error.apiMessage })}</p>}
    </div>
  );
}

/** A notice: `{ key, values }` so that a language switch re-renders it. */
export function Notice({ notice }) {
  const { t, time } = useI18n();
  // A value `{ at: seconds }` is a time, formatted in the language shown.
  const values = notice && notice.values && Object.fromEntries(Object.entries(notice.values).map(([k, v]) => [k, v && typeof v === "object" && "at" in v ? time(v.at) : v]));
  return (
    <p class="notice" role="status" hidden={!notice}>
      {notice ? t(notice.key, values) : ""}
    </p>
  );
}

export function Loading() {
  const { t } = useI18n();
  return <p aria-busy="true">{t("loading")}</p>;
}

export function Time({ at }) {
  const { time } = useI18n();
  if (at === null || at === undefined) return null;
  return <time dateTime={new Date(at * 1000).toISOString()}>{time(at)}</time>;
}
