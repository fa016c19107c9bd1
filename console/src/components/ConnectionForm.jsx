// An organisation's connection to its company's OpenID provider: kind, issuer, client id, the
// client secret (write only: never read back; left empty, a stored one is kept), and how people
// sign in through it. Checked as the API checks it (shared/src/directory/org.rs).
import { useI18n } from "../i18n.jsx";
import { Field, FixAlert, FormActions } from "./AppForm.jsx";
import { ErrorAlert } from "./Messages.jsx";
import { useCheckedForm } from "./useCheckedForm.js";
import { secureUrl } from "./urls.js";

export const CONNECTION_KINDS = ["oidc", "cognito"];
export const PROVISIONINGS = ["scim", "on_first_sign_in"];
export const EMAIL_CLAIMS = ["email", "upn", "preferred_username"];

/** https, or http to this machine (a local provider), with no query or fragment. */
function checkIssuer(text) {
  if (!URL.canParse(text)) return "orgConnection.invalid.issuer";
  if (!secureUrl(text)) return "orgConnection.invalid.https";
  if (text.includes("#") || text.includes("?")) return "orgConnection.invalid.query";
  return null;
}

function check(values, t) {
  const errors = {};
  const issuer = values.issuer.trim();
  const bad = checkIssuer(issuer);
  if (bad) errors.issuer = t(bad);
  const clientId = values.clientId.trim();
  if (!clientId || clientId.length > 256) errors.clientId = t("orgConnection.invalid.clientId");
  const provider = values.identityProvider.trim();
  if (values.kind === "cognito" && !provider) errors.identityProvider = t("orgConnection.invalid.identityProvider");
  if (values.secret && !values.secret.trim()) errors.secret = t("orgConnection.invalid.secret");
  if (Object.keys(errors).length) return { errors };
  const body = {
    kind: values.kind,
    issuer,
    client_id: clientId,
    email_claim: values.emailClaim,
    login_hint: values.loginHint,
    provisioning: values.provisioning,
    single_logout: values.singleLogout,
  };
  if (values.kind === "cognito") body.identity_provider = provider;
  if (values.secret) body.client_secret = values.secret;
  return { errors, body };
}

const initial = (c) => ({
  kind: (c && c.kind) || "oidc",
  issuer: (c && c.issuer) || "",
  clientId: (c && c.client_id) || "",
  secret: "",
  identityProvider: (c && c.identity_provider) || "",
  emailClaim: (c && c.email_claim) || "email",
  loginHint: c ? c.login_hint !== false : true,
  provisioning: (c && c.provisioning) || "scim",
  singleLogout: Boolean(c && c.single_logout),
});

/**
 * @param {{connection?: object, busy: boolean, error?: unknown, onSubmit: (body: object) => void,
 *          onCancel: () => void}} props
 */
export function ConnectionForm({ connection, busy, error, onSubmit, onCancel }) {
  const { t } = useI18n();
  const { values, setValues, errors, shown, set, touch, f, form, submit, anyErrors } = useCheckedForm(() => initial(connection), check, onSubmit);
  const setChecked = (name) => (e) => setValues((v) => ({ ...v, [name]: e.currentTarget.checked }));
  const keeps = Boolean(connection && connection.has_client_secret);

  return (
    <form ref={form} onSubmit={submit} novalidate aria-busy={busy ? "true" : undefined}>
      <FixAlert shown={anyErrors} messageKey="orgForm.fix" />
      <ErrorAlert error={error} />
      <div class="grid">
        <Field id={f("kind")} label={t("orgConnection.kind")}>
          {(p) => (
            <select {...p} name="kind" value={values.kind} onChange={set("kind")}>
              {CONNECTION_KINDS.map((k) => (
                <option key={k} value={k}>
                  {t(`orgConnection.kinds.${k}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {values.kind === "cognito" && (
          <Field id={f("idp")} label={t("orgConnection.identityProvider")} help={t("orgConnection.identityProviderHelp")} error={errors.identityProvider} shown={shown("identityProvider")}>
            {(p) => <input {...p} name="identityProvider" value={values.identityProvider} onInput={set("identityProvider")} onBlur={touch("identityProvider")} autoComplete="off" spellcheck={false} />}
          </Field>
        )}
      </div>
      <Field id={f("issuer")} label={t("orgConnection.issuer")} help={t("orgConnection.issuerHelp")} error={errors.issuer} shown={shown("issuer")}>
        {(p) => (
          <input {...p} name="issuer" type="url" inputMode="url" class="mono" value={values.issuer} onInput={set("issuer")} onBlur={touch("issuer")} autoComplete="off" spellcheck={false} autocapitalize="off" />
        )}
      </Field>
      <Field id={f("client-id")} label={t("orgConnection.clientId")} error={errors.clientId} shown={shown("clientId")}>
        {(p) => <input {...p} name="clientId" class="mono" value={values.clientId} onInput={set("clientId")} onBlur={touch("clientId")} autoComplete="off" spellcheck={false} autocapitalize="off" maxLength={256} />}
      </Field>
      <Field
        id={f("client-secret")}
        label={t("orgConnection.clientSecret")}
        help={t(keeps ? "orgConnection.secretKeep" : "orgConnection.secretNone")}
        error={errors.secret}
        shown={shown("secret")}
      >
        {(p) => <input {...p} name="secret" type="password" class="mono" value={values.secret} onInput={set("secret")} onBlur={touch("secret")} autoComplete="new-password" spellcheck={false} />}
      </Field>
      <div class="grid">
        <Field id={f("provisioning")} label={t("orgConnection.provisioning")}>
          {(p) => (
            <select {...p} name="provisioning" value={values.provisioning} onChange={set("provisioning")}>
              {PROVISIONINGS.map((k) => (
                <option key={k} value={k}>
                  {t(`orgConnection.provisionings.${k}`)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field id={f("email-claim")} label={t("orgConnection.emailClaim")} help={t("orgConnection.emailClaimHelp")}>
          {(p) => (
            <select {...p} name="emailClaim" value={values.emailClaim} onChange={set("emailClaim")}>
              {EMAIL_CLAIMS.map((k) => (
                <option key={k} value={k}>
                  {k}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <fieldset>
        <legend>{t("orgConnection.options")}</legend>
        <label>
          <input type="checkbox" role="switch" name="loginHint" checked={values.loginHint} onChange={setChecked("loginHint")} aria-describedby={f("hint-help")} />
          {t("orgConnection.loginHint")}
        </label>
        <small id={f("hint-help")} class="muted">
          {t("orgConnection.loginHintHelp")}
        </small>
        <label>
          <input type="checkbox" role="switch" name="singleLogout" checked={values.singleLogout} onChange={setChecked("singleLogout")} aria-describedby={f("logout-help")} />
          {t("orgConnection.singleLogout")}
        </label>
        <small id={f("logout-help")} class="muted">
          {t("orgConnection.singleLogoutHelp")}
        </small>
      </fieldset>
      <FormActions busy={busy} onCancel={onCancel} submitKey={connection ? "orgConnection.save" : "orgConnection.connect"} />
    </form>
  );
}
