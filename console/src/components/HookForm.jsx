// A telephony hook's settings, for creating one (with its name and its secret) or changing one:
// its URL, how it authenticates (a header carrying the secret, or OAuth 2.0 client credentials
// whose client secret it is), and its fallback. The secret is write only: never read back; left
// empty on a change, the stored one is kept (the API refuses that when the kind of
// authentication changes, and `HookError` says why). Checked as the API checks it
// (shared/src/telephony/hook.rs, `Hook::validate`).
import { useCallback } from "preact/hooks";
import { useI18n } from "../i18n.jsx";
import { Field, FixAlert, FormActions } from "./AppForm.jsx";
import { ErrorAlert } from "./Messages.jsx";
import { useCheckedForm } from "./useCheckedForm.js";
import { secureUrl } from "./urls.js";

export const AUTH_KINDS = ["header", "oauth2"];
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
const HEADER = /^[A-Za-z0-9_-]+$/;

/** https, or http on this machine; no user, query or fragment (as `secure_url::secure`). */
export function checkHookUrl(text) {
  if (text.includes("?") || text.includes("#") || !secureUrl(text)) return false;
  const url = new URL(text);
  return !url.username && !url.password;
}

function check(values, mode, t) {
  const errors = {};
  if (mode === "create" && !NAME.test(values.name)) errors.name = t("hookForm.invalid.name");
  const url = values.url.trim();
  if (!checkHookUrl(url)) errors.url = t("hookForm.invalid.url");
  let auth;
  if (values.kind === "header") {
    const name = values.headerName.trim();
    if (!HEADER.test(name)) errors.headerName = t("hookForm.invalid.headerName");
    auth = { type: "header", name };
  } else {
    const tokenUrl = values.tokenUrl.trim();
    const clientId = values.clientId.trim();
    const scope = values.scope.trim();
    if (!checkHookUrl(tokenUrl)) errors.tokenUrl = t("hookForm.invalid.url");
    if (!clientId) errors.clientId = t("hookForm.invalid.clientId");
    auth = { type: "oauth2", token_url: tokenUrl, client_id: clientId, ...(scope ? { scope } : {}) };
  }
  if (mode === "create" && !values.secret.trim()) errors.secret = t("hookForm.invalid.secret");
  else if (values.secret && !values.secret.trim()) errors.secret = t("hookForm.invalid.blank");
  if (Object.keys(errors).length) return { errors };
  const body = { url, auth, fallback: values.fallback || null };
  if (values.secret) body.secret = values.secret;
  if (mode === "create") body.name = values.name;
  return { errors, body };
}

const initial = (hook) => {
  const a = (hook && hook.auth) || {};
  return {
    name: hook ? hook.name : "",
    url: hook ? hook.url : "",
    kind: AUTH_KINDS.includes(a.type) ? a.type : "header",
    headerName: a.type === "header" ? a.name || "" : "",
    tokenUrl: a.token_url || "",
    clientId: a.client_id || "",
    scope: a.scope || "",
    fallback: (hook && hook.fallback) || "",
    secret: "",
  };
};

/** Refusals the API explains in a sentence (its `message`), said in the language shown; the
 * API's own words stay below as the detail. */
const REFUSALS = [
  [/^changing how a hook authenticates needs its new secret/, () => ["hookForm.refused.secretNeeded", {}]],
  [/^hook `([^`]+)` is the active hook/, (m) => ["hookForm.refused.active", { name: m[1] }]],
  [/^hook `([^`]+)` falls back to `([^`]+)`/, (m) => ["hookForm.refused.fallbackOf", { other: m[1], name: m[2] }]],
  [/^hook `([^`]+)` is not the active hook/, (m) => ["hookForm.refused.notActive", { name: m[1] }]],
  [/^the fallback hook `([^`]+)` does not exist/, (m) => ["hookForm.refused.fallbackMissing", { name: m[1] }]],
  [/^hook `([^`]+)` exists already/, (m) => ["hookForm.refused.exists", { name: m[1] }]],
  [/^the person has no phone_number/, () => ["hookForm.refused.noPhone", {}]],
];

/** An API error about hooks: a known refusal in the language shown with the API's message as
 * its detail, anything else as every page shows it. */
export function HookError({ error }) {
  const { t } = useI18n();
  const message = error && typeof error === "object" ? error.apiMessage || "" : "";
  const known = message && ["invalid_request", "conflict"].includes(error.code) && REFUSALS.find(([pattern]) => pattern.test(message));
  if (!known) return <ErrorAlert error={error} />;
  const [key, values] = known[1](known[0].exec(message));
  return (
    <div class="alert" role="alert">
      <p>{t(key, values)}</p>
      <p class="detail">{t("errorDetail", { message })}</p>
    </div>
  );
}

/**
 * @param {{mode: "create"|"edit", hook?: object, hooks: object[], busy: boolean, error?: unknown,
 *          onSubmit: (body: object) => void, onCancel?: () => void}} props
 *   `hooks`: every hook (the fallback is one of the others).
 */
export function HookForm({ mode, hook, hooks, busy, error, onSubmit, onCancel }) {
  const { t } = useI18n();
  const checkMode = useCallback((v, t) => check(v, mode, t), [mode]);
  const { values, setValues, errors, shown, set, touch, f, form, submit, anyErrors } = useCheckedForm(() => initial(hook), checkMode, onSubmit);
  const stored = mode === "edit" && hook && hook.auth && hook.auth.has_secret;
  const kindChanged = mode === "edit" && hook && hook.auth && hook.auth.type !== values.kind;
  const others = (hooks || []).filter((h) => !hook || h.name !== hook.name);
  // The API refused a change of authentication without its new secret: the field is marked.
  const secretRefused = Boolean(error && error.code === "invalid_request" && /needs its new secret/.test(error.apiMessage || "")) && !values.secret;

  const secretHelp = mode === "create" ? t("hookForm.secretNew") : kindChanged ? t("hookForm.secretKindChanged") : stored ? t("hookForm.secretKeep") : t("hookForm.secretNew");
  return (
    <form ref={form} onSubmit={submit} novalidate aria-busy={busy ? "true" : undefined}>
      <FixAlert shown={anyErrors} messageKey="hookForm.fix" />
      <HookError error={error} />
      {mode === "create" && (
        <Field id={f("name")} label={t("hookForm.name")} help={t("hookForm.nameHelp")} error={errors.name} shown={shown("name")}>
          {(p) => <input {...p} name="name" class="mono" value={values.name} onInput={set("name")} onBlur={touch("name")} autoComplete="off" spellcheck={false} autocapitalize="off" maxLength={64} />}
        </Field>
      )}
      <Field id={f("url")} label={t("hookForm.url")} help={t("hookForm.urlHelp")} error={errors.url} shown={shown("url")}>
        {(p) => <input {...p} name="url" type="url" inputMode="url" class="mono" value={values.url} onInput={set("url")} onBlur={touch("url")} autoComplete="off" spellcheck={false} autocapitalize="off" />}
      </Field>
      <fieldset>
        <legend>{t("hookForm.auth")}</legend>
        {AUTH_KINDS.map((k) => (
          <label key={k}>
            <input type="radio" name={f("kind")} value={k} checked={values.kind === k} onChange={() => setValues((v) => ({ ...v, kind: k }))} />
            {t(`hookForm.kinds.${k}`)}
          </label>
        ))}
      </fieldset>
      {values.kind === "header" ? (
        <Field id={f("header")} label={t("hookForm.headerName")} help={t("hookForm.headerNameHelp")} error={errors.headerName} shown={shown("headerName")}>
          {(p) => <input {...p} name="headerName" class="mono" value={values.headerName} onInput={set("headerName")} onBlur={touch("headerName")} autoComplete="off" spellcheck={false} autocapitalize="off" />}
        </Field>
      ) : (
        <>
          <Field id={f("token-url")} label={t("hookForm.tokenUrl")} help={t("hookForm.tokenUrlHelp")} error={errors.tokenUrl} shown={shown("tokenUrl")}>
            {(p) => (
              <input {...p} name="tokenUrl" type="url" inputMode="url" class="mono" value={values.tokenUrl} onInput={set("tokenUrl")} onBlur={touch("tokenUrl")} autoComplete="off" spellcheck={false} autocapitalize="off" />
            )}
          </Field>
          <div class="grid">
            <Field id={f("client-id")} label={t("hookForm.clientId")} error={errors.clientId} shown={shown("clientId")}>
              {(p) => <input {...p} name="clientId" class="mono" value={values.clientId} onInput={set("clientId")} onBlur={touch("clientId")} autoComplete="off" spellcheck={false} autocapitalize="off" />}
            </Field>
            <Field id={f("scope")} label={t("hookForm.scope")} help={t("hookForm.scopeHelp")}>
              {(p) => <input {...p} name="scope" class="mono" value={values.scope} onInput={set("scope")} autoComplete="off" spellcheck={false} autocapitalize="off" />}
            </Field>
          </div>
        </>
      )}
      <Field id={f("secret")} label={t(values.kind === "header" ? "hookForm.secretHeader" : "hookForm.secretOauth")} help={secretHelp} error={errors.secret} shown={shown("secret")}>
        {(p) => (
          <input
            {...p}
            aria-invalid={secretRefused ? "true" : p["aria-invalid"]}
            name="secret"
            type="password"
            class="mono"
            value={values.secret}
            onInput={set("secret")}
            onBlur={touch("secret")}
            autoComplete="new-password"
            spellcheck={false}
          />
        )}
      </Field>
      <Field id={f("fallback")} label={t("hookForm.fallback")} help={t("hookForm.fallbackHelp")}>
        {(p) => (
          <select {...p} name="fallback" value={values.fallback} onChange={set("fallback")}>
            <option value="">{t("hookForm.noFallback")}</option>
            {others.map((h) => (
              <option key={h.name} value={h.name}>
                {h.name}
              </option>
            ))}
            {values.fallback && !others.some((h) => h.name === values.fallback) && <option value={values.fallback}>{values.fallback}</option>}
          </select>
        )}
      </Field>
      <FormActions busy={busy} onCancel={onCancel} submitKey={mode === "create" ? "hookForm.create" : "hookForm.saveChanges"} />
    </form>
  );
}
