// An organisation's settings, for creating one or changing one: its name, its email domains (one
// per line or comma separated, checked as the API checks them) and its two policies. A domain
// another organisation owns comes back as 409: `explainTaken` turns the API's message into
// which domain and whose it is, said in the language shown.
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { ErrorAlert } from "./Messages.jsx";
import { Field, FixAlert, FormActions } from "./AppForm.jsx";
import { useCheckedForm } from "./useCheckedForm.js";

export const DELETE_MODES = ["deactivate", "delete"];
const MAX_DOMAINS = 50;
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A domain as the API keeps it (lower case, no trailing dot), or null if it is not one. */
export function parseDomain(raw) {
  const domain = raw.trim().replace(/\.+$/, "").toLowerCase();
  const labels = domain.split(".");
  const ok = domain.length <= 253 && labels.length >= 2 && labels.every((l) => LABEL.test(l)) && !/^[0-9]+$/.test(labels[labels.length - 1]);
  return ok ? domain : null;
}

/** The domains typed: split on lines, commas and spaces; each one once. */
const split = (text) => text.split(/[\s,]+/).map((d) => d.trim()).filter(Boolean);

function check(values, t) {
  const errors = {};
  const name = values.name.trim();
  if (!name || [...name].length > 200) errors.name = t("orgForm.invalid.name");
  const domains = [];
  for (const raw of split(values.domains)) {
    const domain = parseDomain(raw);
    if (!domain) {
      errors.domains = t("orgForm.invalid.domain", { domain: raw });
      break;
    }
    if (!domains.includes(domain)) domains.push(domain);
  }
  if (!errors.domains && domains.length > MAX_DOMAINS) errors.domains = t("orgForm.invalid.tooMany", { n: MAX_DOMAINS });
  if (Object.keys(errors).length) return { errors };
  return { errors, body: { name, domains, policies: { delete: values.deleteMode, password_sign_in: values.password } } };
}

const initial = (org) => ({
  name: org ? org.name : "",
  domains: org ? org.domains.join("\n") : "",
  deleteMode: (org && org.policies && org.policies.delete) || "deactivate",
  password: Boolean(org && org.policies && org.policies.password_sign_in),
});

const TAKEN = /the domain (\S+) belongs to another organisation/;

/**
 * A refused create or change, explained: for a domain another organisation owns (409), the
 * domain (from the API's message) and that organisation's name (from the list, when it can be
 * read). Anything else is returned as it is.
 */
export async function explainTaken(error) {
  const found = error && error.code === "conflict" && TAKEN.exec(error.apiMessage || "");
  if (!found) return error;
  const domain = found[1];
  let owner = null;
  try {
    const { data } = await api("/orgs");
    owner = data.orgs.find((o) => o.domains.includes(domain)) || null;
  } catch {
    // The domain alone says enough.
  }
  return { code: "domain_taken", domain, owner: owner && owner.name };
}

/** A refusal: a taken domain in the language shown, anything else as every page shows it. */
export function OrgError({ error }) {
  const { t } = useI18n();
  if (error && error.code === "domain_taken") {
    return (
      <div class="alert" role="alert">
        <p>{error.owner ? t("orgForm.takenBy", { domain: error.domain, owner: error.owner }) : t("orgForm.taken", { domain: error.domain })}</p>
      </div>
    );
  }
  return <ErrorAlert error={error} />;
}

/**
 * @param {{mode: "create"|"edit", org?: object, busy: boolean, error?: unknown,
 *          onSubmit: (body: object) => void, onCancel?: () => void}} props
 */
export function OrgForm({ mode, org, busy, error, onSubmit, onCancel }) {
  const { t } = useI18n();
  const { values, setValues, errors, shown, set, touch, f, form, submit, anyErrors } = useCheckedForm(() => initial(org), check, onSubmit);
  const takenDomain = error && error.code === "domain_taken";

  return (
    <form ref={form} onSubmit={submit} novalidate aria-busy={busy ? "true" : undefined}>
      <FixAlert shown={anyErrors} messageKey="orgForm.fix" />
      <OrgError error={error} />
      <Field id={f("name")} label={t("orgForm.name")} help={t("orgForm.nameHelp")} error={errors.name} shown={shown("name")}>
        {(p) => <input {...p} name="name" value={values.name} onInput={set("name")} onBlur={touch("name")} autoComplete="off" required maxLength={200} />}
      </Field>
      <Field id={f("domains")} label={t("orgForm.domains")} help={t("orgForm.domainsHelp")} error={errors.domains} shown={shown("domains")}>
        {(p) => (
          <textarea
            {...p}
            aria-invalid={takenDomain && !errors.domains ? "true" : p["aria-invalid"]}
            name="domains"
            class="mono"
            rows={3}
            value={values.domains}
            onInput={set("domains")}
            onBlur={touch("domains")}
            spellcheck={false}
            autocapitalize="off"
          />
        )}
      </Field>
      <fieldset>
        <legend>{t("orgForm.deleteMode")}</legend>
        {DELETE_MODES.map((m) => (
          <label key={m}>
            <input type="radio" name={f("delete-mode")} value={m} checked={values.deleteMode === m} onChange={() => setValues((v) => ({ ...v, deleteMode: m }))} />
            {t(`orgForm.deleteModes.${m}`)}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>{t("orgForm.passwordLegend")}</legend>
        <label>
          <input
            type="checkbox"
            role="switch"
            name="password"
            checked={values.password}
            onChange={(e) => setValues((v) => ({ ...v, password: e.currentTarget.checked }))}
            aria-describedby={f("password-help")}
          />
          {t("orgForm.password")}
        </label>
        <small id={f("password-help")} class="muted">
          {t("orgForm.passwordHelp")}
        </small>
      </fieldset>
      <FormActions busy={busy} onCancel={onCancel} submitKey={mode === "create" ? "orgForm.create" : "orgForm.saveChanges"} />
    </form>
  );
}
