// An app's settings, for creating one (with its id and, for kinds that share a secret, the
// secret) or changing one. The kind's settings and the claim mapping are JSON, checked as they
// are typed; the API checks them again (and says what it refuses).
import { useCallback } from "preact/hooks";
import { useI18n } from "../i18n.jsx";
import { ErrorAlert } from "./Messages.jsx";
import { useCheckedForm } from "./useCheckedForm.js";

export const KINDS = ["zendesk", "insided", "discourse", "jwt", "oidc", "saml"];
export const RISKS = ["allow", "require_mfa", "deny"];

/** What each kind needs, and a starting point for its settings (README, "App kinds"). */
const REQUIRED = { zendesk: ["account_url"], insided: ["community_id"], discourse: ["forum_url"], jwt: ["url", "algorithm"], oidc: ["redirect_uris"], saml: ["entity_id", "acs_url"] };
const TEMPLATES = {
  zendesk: { account_url: "https://example.zendesk.com", delivery: "post" },
  insided: { community_id: "", region: "eu", algorithm: "ES256", username_from_email: true },
  discourse: { forum_url: "https://forum.example.com" },
  jwt: { url: "https://tool.example.com/sso", algorithm: "ES256", audience: "" },
  oidc: { redirect_uris: ["https://tool.example.com/oidc/callback"], client_authentication: "client_secret_basic" },
  saml: { entity_id: "https://tool.example.com/saml/metadata", acs_url: "https://tool.example.com/saml/acs", name_id: "email" },
};
const FIELDS = {
  zendesk: "account_url, delivery (post, get)",
  insided: "community_id, region (eu, us-west-2, staging), algorithm (ES256, RS256, HS256), username_from_email, lifetime_seconds",
  discourse: "forum_url",
  jwt: "url, algorithm (HS256, RS256, ES256), parameter, delivery (get, post), lifetime_seconds, audience, return_parameter",
  oidc: "redirect_uris, post_logout_redirect_uris, client_authentication (client_secret_basic, client_secret_post, private_key_jwt, none), jwks (private_key_jwt's public keys), algorithm (RS256, ES256), lifetime_seconds, refresh_token_lifetime_seconds, refresh_token_idle_seconds, backchannel_logout_uri",
  saml: "entity_id, acs_url, name_id (email, user_id), idp_initiated (false), lifetime_seconds",
};
const pretty = (value) => JSON.stringify(value, null, 2);
const template = (kind) => pretty(TEMPLATES[kind]);

/** Whether an app of this target shares a secret with the bridge (HS256, DiscourseConnect, an
 * OpenID Connect client's secret: not a public or `private_key_jwt` client's). */
export function sharesSecret(target) {
  if (!target) return false;
  if (target.kind === "zendesk" || target.kind === "discourse") return true;
  if (target.kind === "oidc") return !["none", "private_key_jwt"].includes(target.client_authentication);
  return (target.kind === "jwt" || target.kind === "insided") && target.algorithm === "HS256";
}

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const ORG = /^[a-z0-9-]{1,64}$/;
/** How many groups, and how many organisations, an app's access may list (the API's limit). */
const MAX_ASSIGNMENTS = 50;
/** One name per line (a Cognito group name may hold commas), trimmed. */
const lines = (text) => text.split("\n").map((l) => l.trim()).filter(Boolean);

/** Who may sign in: `{ error }` or `{ value }`, the API's `access` (`{}`: everyone). */
function checkAccess(values, t) {
  const groups = lines(values.accessGroups);
  const organisations = lines(values.accessOrgs);
  const twice = (list) => list.find((x, i) => list.indexOf(x) !== i);
  const badGroup = groups.find((g) => [...g].length > 128 || /[\s\u0000-\u001f\u007f-\u009f]/.test(g));
  if (badGroup) return { error: t("appForm.invalid.group", { group: badGroup }) };
  const badOrg = organisations.find((o) => !ORG.test(o));
  if (badOrg) return { error: t("appForm.invalid.org", { org: badOrg }) };
  const repeated = twice(groups) || twice(organisations);
  if (repeated) return { error: t("appForm.invalid.twice", { name: repeated }) };
  if (groups.length > MAX_ASSIGNMENTS || organisations.length > MAX_ASSIGNMENTS) return { error: t("appForm.invalid.tooMany", { n: MAX_ASSIGNMENTS }) };
  const value = {};
  if (groups.length) value.groups = groups;
  if (organisations.length) value.organisations = organisations;
  return { value };
}

function parseObject(text, t) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: t("appForm.invalid.json", { detail: e.message }) };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return { error: t("appForm.invalid.object") };
  return { value };
}

/** The origin of an http(s) URL, or null (not a URL, another scheme). */
function originOf(text) {
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : null;
  } catch {
    return null;
  }
}

function checkOrigin(text) {
  try {
    const url = new URL(text);
    return (url.protocol === "https:" || url.protocol === "http:") && url.origin === text.replace(/\/$/, "");
  } catch {
    return false;
  }
}

/** The form's values checked: `{ errors, body }`, `body` being what the API takes. */
function check(values, mode, t) {
  const errors = {};
  if (mode === "create" && !ID.test(values.id)) errors.id = t("appForm.invalid.id");
  const name = values.name.trim();
  if (!name || name.length > 200) errors.name = t("appForm.invalid.name");
  const target = parseObject(values.target, t);
  if (target.error) errors.target = target.error;
  else if (target.value.kind !== undefined && target.value.kind !== values.kind) errors.target = t("appForm.invalid.kind", { found: JSON.stringify(target.value.kind), kind: values.kind });
  else {
    const empty = (v) => v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
    const missing = REQUIRED[values.kind].filter((f) => empty(target.value[f]));
    if (missing.length) errors.target = t("appForm.invalid.missing", { fields: missing.join(", ") });
  }
  const origins = values.origins.split(/[\s,]+/).map((o) => o.trim()).filter(Boolean).map((o) => o.replace(/\/$/, ""));
  if (!origins.length) errors.origins = t("appForm.invalid.origins");
  else {
    const bad = origins.find((o) => !checkOrigin(o));
    if (bad) errors.origins = t("appForm.invalid.origin", { origin: bad });
  }
  const homeUrl = values.homeUrl.trim();
  if (homeUrl && !origins.includes(originOf(homeUrl))) errors.homeUrl = t("appForm.invalid.homeUrl");
  const claims = parseObject(values.claims.trim() || "{}", t);
  if (claims.error) errors.claims = claims.error;
  const access = checkAccess(values, t);
  if (access.error) errors.access = access.error;
  const fullTarget = target.value ? { ...target.value, kind: values.kind } : null;
  const secretNeeded = mode === "create" && sharesSecret(fullTarget);
  if (secretNeeded && values.secretMode === "enter" && values.secret.length < 16) errors.secret = t("appForm.invalid.secret");
  if (Object.keys(errors).length) return { errors, secretNeeded };
  const body = { name, target: fullTarget, allowed_origins: origins, claims: claims.value, risk_policy: values.risk, sign_up: values.signUp, access: access.value };
  body.home_url = homeUrl || null;
  if (mode === "create") {
    body.id = values.id;
    if (secretNeeded) {
      if (values.secretMode === "generate") body.generate_secret = true;
      else body.secret = values.secret;
    }
  }
  return { errors, body, secretNeeded };
}

function initial(app) {
  if (!app) {
    return { id: "", name: "", kind: "zendesk", target: template("zendesk"), origins: "", homeUrl: "", risk: "allow", signUp: "off", claims: "{}", accessGroups: "", accessOrgs: "", secretMode: "generate", secret: "" };
  }
  const { kind, ...settings } = app.target || {};
  return {
    id: app.id,
    name: app.name,
    kind: KINDS.includes(kind) ? kind : "jwt",
    target: pretty(settings),
    origins: (app.allowed_origins || []).join("\n"),
    homeUrl: app.home_url || "",
    risk: app.risk_policy || "allow",
    signUp: app.sign_up || "off",
    claims: pretty(app.claims || {}),
    accessGroups: ((app.access && app.access.groups) || []).join("\n"),
    accessOrgs: ((app.access && app.access.organisations) || []).join("\n"),
    secretMode: "generate",
    secret: "",
  };
}

/** A labelled field with its help and its error (aria-describedby both; aria-invalid). */
export function Field({ id, label, help, error, shown, children }) {
  const describedBy = [help && `${id}-help`, error && shown && `${id}-error`].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children({ id, "aria-describedby": describedBy, "aria-invalid": shown ? String(Boolean(error)) : undefined })}
      {error && shown && (
        <small id={`${id}-error`} class="error-text">
          {error}
        </small>
      )}
      {help && <small id={`${id}-help`}>{help}</small>}
    </div>
  );
}

/** Said once a submit found errors (`shown`): `messageKey`'s text, as an alert. */
export function FixAlert({ shown, messageKey }) {
  const { t } = useI18n();
  if (!shown) return null;
  return (
    <p role="alert" class="alert">
      {t(messageKey)}
    </p>
  );
}

/** A form's buttons: cancel (when there is `onCancel`) and submit, saying `submitKey`'s text
 * ("saving" while busy). */
export function FormActions({ busy, onCancel, submitKey }) {
  const { t } = useI18n();
  return (
    <div class="actions">
      {onCancel && (
        <button type="button" class="secondary" onClick={onCancel} disabled={busy}>
          {t("cancel")}
        </button>
      )}
      <button type="submit" disabled={busy} aria-busy={busy ? "true" : undefined}>
        {busy ? t("saving") : t(submitKey)}
      </button>
    </div>
  );
}

/**
 * @param {{mode: "create"|"edit", app?: object, busy: boolean, error?: unknown,
 *          onSubmit: (body: object) => void, onCancel?: () => void}} props
 */
export function AppForm({ mode, app, busy, error, onSubmit, onCancel }) {
  const { t } = useI18n();
  const checkMode = useCallback((v, t) => check(v, mode, t), [mode]);
  const { values, setValues, checked, errors, shown, set, touch, f, form, submit, anyErrors } = useCheckedForm(() => initial(app), checkMode, onSubmit);
  const { secretNeeded } = checked;
  const chooseKind = (e) => {
    const kind = e.currentTarget.value;
    // Untouched settings follow the kind; settings someone wrote stay (and are checked).
    setValues((v) => ({ ...v, kind, target: v.target.trim() === template(v.kind) || !v.target.trim() ? template(kind) : v.target }));
  };

  return (
    <form ref={form} onSubmit={submit} novalidate aria-busy={busy ? "true" : undefined}>
      <FixAlert shown={anyErrors} messageKey="appForm.fix" />
      <ErrorAlert error={error} />
      {mode === "create" && (
        <Field id={f("id")} label={t("appForm.id")} help={t("appForm.idHelp")} error={errors.id} shown={shown("id")}>
          {(p) => (
            <input {...p} name="id" value={values.id} onInput={set("id")} onBlur={touch("id")} autoComplete="off" spellcheck={false} autocapitalize="off" required maxLength={64} />
          )}
        </Field>
      )}
      <Field id={f("name")} label={t("appForm.name")} help={t("appForm.nameHelp")} error={errors.name} shown={shown("name")}>
        {(p) => <input {...p} name="name" value={values.name} onInput={set("name")} onBlur={touch("name")} autoComplete="off" required maxLength={200} />}
      </Field>
      <div class="grid">
        <Field id={f("kind")} label={t("appForm.kind")}>
          {(p) => (
            <select {...p} name="kind" value={values.kind} onChange={chooseKind}>
              {KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`apps.kinds.${k}`)} ({k})
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id={f("risk")} label={t("appForm.risk")} help={t("appForm.riskHelp")}>
          {(p) => (
            <select {...p} name="risk" value={values.risk} onChange={set("risk")}>
              {RISKS.map((r) => (
                <option key={r} value={r}>
                  {t(`apps.risks.${r}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id={f("sign-up")} label={t("appForm.signUp")} help={t("appForm.signUpHelp")}>
          {(p) => (
            <select {...p} name="sign_up" value={values.signUp} onChange={set("signUp")}>
              {["off", "open"].map((s) => (
                <option key={s} value={s}>
                  {t(`apps.signUps.${s}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <Field id={f("target")} label={t("appForm.target")} help={t("appForm.targetHelp", { fields: FIELDS[values.kind] })} error={errors.target} shown={shown("target") || values.target !== template(values.kind)}>
        {(p) => <textarea {...p} name="target" class="mono" rows={6} value={values.target} onInput={set("target")} onBlur={touch("target")} spellcheck={false} />}
      </Field>
      <Field id={f("origins")} label={t("appForm.origins")} help={t("appForm.originsHelp")} error={errors.origins} shown={shown("origins")}>
        {(p) => <textarea {...p} name="origins" class="mono" rows={2} value={values.origins} onInput={set("origins")} onBlur={touch("origins")} spellcheck={false} autocapitalize="off" />}
      </Field>
      <Field id={f("home-url")} label={t("appForm.homeUrl")} help={t("appForm.homeUrlHelp")} error={errors.homeUrl} shown={shown("homeUrl") || Boolean(values.homeUrl.trim())}>
        {(p) => <input {...p} name="home_url" type="url" class="mono" value={values.homeUrl} onInput={set("homeUrl")} onBlur={touch("homeUrl")} spellcheck={false} autocapitalize="off" />}
      </Field>
      <fieldset aria-describedby={f("access-help")}>
        <legend>{t("appForm.access")}</legend>
        <small class="muted" id={f("access-help")}>
          {t("appForm.accessHelp")}
        </small>
        <div class="grid">
          <Field id={f("access-groups")} label={t("appForm.accessGroups")} error={errors.access} shown={shown("access") || Boolean(values.accessGroups.trim() || values.accessOrgs.trim())}>
            {(p) => <textarea {...p} name="access_groups" class="mono" rows={2} value={values.accessGroups} onInput={set("accessGroups")} onBlur={touch("access")} spellcheck={false} autocapitalize="off" />}
          </Field>
          <Field id={f("access-orgs")} label={t("appForm.accessOrgs")}>
            {(p) => <textarea {...p} name="access_orgs" class="mono" rows={2} value={values.accessOrgs} onInput={set("accessOrgs")} onBlur={touch("access")} spellcheck={false} autocapitalize="off" />}
          </Field>
        </div>
      </fieldset>
      <Field id={f("claims")} label={t("appForm.claims")} help={t("appForm.claimsHelp")} error={errors.claims} shown={shown("claims") || values.claims.trim() !== "{}"}>
        {(p) => <textarea {...p} name="claims" class="mono" rows={4} value={values.claims} onInput={set("claims")} onBlur={touch("claims")} spellcheck={false} />}
      </Field>
      {mode === "create" &&
        (secretNeeded ? (
          <fieldset>
            <legend>{t("appForm.secret")}</legend>
            <label>
              <input type="radio" name="secretMode" value="generate" checked={values.secretMode === "generate"} onChange={set("secretMode")} />
              {t("appForm.generate")}
            </label>
            <label>
              <input type="radio" name="secretMode" value="enter" checked={values.secretMode === "enter"} onChange={set("secretMode")} />
              {t("appForm.enter")}
            </label>
            {values.secretMode === "enter" && (
              <Field id={f("secret")} label={t("appForm.secretValue")} help={t("appForm.secretHelp")} error={errors.secret} shown={shown("secret")}>
                {(p) => <input {...p} name="secret" type="password" class="mono" value={values.secret} onInput={set("secret")} onBlur={touch("secret")} autoComplete="new-password" minLength={16} />}
              </Field>
            )}
          </fieldset>
        ) : (
          <p class="muted small">{t("appForm.noSecret")}</p>
        ))}
      <FormActions busy={busy} onCancel={onCancel} submitKey={mode === "create" ? "appForm.create" : "appForm.saveChanges"} />
    </form>
  );
}
