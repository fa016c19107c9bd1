// One app: its settings; for admins, edit (PUT with If-Match: the ETag read), set a new secret,
// delete (with If-Match, after a confirmation). A 412 means someone else changed the app
// meanwhile: the console says so and reloads it.
import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api, seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { flash, may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { AppForm, sharesSecret } from "../components/AppForm.jsx";
import { Dialog, useQuestion } from "../components/Dialog.jsx";
import { ErrorAlert, Loading, Notice } from "../components/Messages.jsx";
import { SecretDialog } from "../components/SecretDialog.jsx";

/** Whether an app's `access` admits everyone (absent, or both lists empty), as the API's rule has it. */
export const listsNoOne = (access) => !access || (!(access.groups || []).length && !(access.organisations || []).length);

/** A table row's header cell: the app's id, linking to its page. */
export function AppIdCell({ id }) {
  return (
    <th scope="row">
      <Link href={`/apps/${encodeURIComponent(id)}`}>
        <code>{id}</code>
      </Link>
    </th>
  );
}

export const decode = (value) => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

function Settings({ app }) {
  const { t } = useI18n();
  return (
    <dl class="facts">
      <div>
        <dt>{t("apps.kind")}</dt>
        <dd>{t(`apps.kinds.${app.target.kind}`)}</dd>
      </div>
      <div>
        <dt>{t("apps.risk")}</dt>
        <dd>{t(`apps.risks.${app.risk_policy}`)}</dd>
      </div>
      <div>
        <dt>{t("app.access")}</dt>
        <dd>
          {!listsNoOne(app.access) ? (
            <ul class="plain">
              {(app.access.groups || []).map((g) => (
                <li key={`g-${g}`}>
                  {t("app.accessGroup")} <code>{g}</code>
                </li>
              ))}
              {(app.access.organisations || []).map((o) => (
                <li key={`o-${o}`}>
                  {t("app.accessOrg")} <Link href={`/orgs/${encodeURIComponent(o)}`}>{o}</Link>
                </li>
              ))}
            </ul>
          ) : (
            t("app.accessEveryone")
          )}
        </dd>
      </div>
      <div>
        <dt>{t("app.homeUrl")}</dt>
        <dd>{app.home_url ? <code>{app.home_url}</code> : t("app.homeUrlNone")}</dd>
      </div>
      {app.target && app.target.kind === "oidc" && (
        <div>
          <dt>{t("app.oidc")}</dt>
          <dd>
            {t("app.oidcClientId")} <code>{app.id}</code>
            <br />
            {t("app.oidcIssuer")}
          </dd>
        </div>
      )}
      {app.target && app.target.kind === "saml" && (
        <div>
          <dt>{t("app.saml")}</dt>
          <dd>{t("app.samlMetadata", { id: app.id })}</dd>
        </div>
      )}
      <div>
        <dt>{t("apps.secret")}</dt>
        <dd>{app.has_secret ? t("apps.hasSecret") : t("apps.noSecret")}</dd>
      </div>
      <div>
        <dt>{t("app.version")}</dt>
        <dd>{app.version}</dd>
      </div>
      <div>
        <dt>{t("app.origins")}</dt>
        <dd>
          <ul class="plain">
            {app.allowed_origins.map((o) => (
              <li key={o}>
                <code>{o}</code>
              </li>
            ))}
          </ul>
        </dd>
      </div>
      <div class="block">
        <dt>{t("app.target")}</dt>
        <dd>
          <pre>
            <code>{JSON.stringify(app.target, null, 2)}</code>
          </pre>
        </dd>
      </div>
      <div class="block">
        <dt>{t("app.claims")}</dt>
        <dd>
          <pre>
            <code>{JSON.stringify(app.claims, null, 2)}</code>
          </pre>
        </dd>
      </div>
    </dl>
  );
}

/** Setting a new shared secret: generated (shown once) or entered. */
function NewSecret({ app, onDone }) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const [mode, setMode] = useState("generate");
  const [secret, setSecret] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [shown, setShown] = useState(null);
  const invalid = mode === "enter" && secret.length < 16;

  const submit = async (e) => {
    e.preventDefault();
    if (invalid) return;
    setBusy(true);
    setError(null);
    try {
      const { data } = await api(`/apps/${seg(app.id)}/secret`, { method: "POST", body: mode === "generate" ? { generate: true } : { secret } });
      setOpen(false);
      setSecret("");
      if (data && data.secret) setShown(data.secret);
      onDone({ key: "app.secretSaved" });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <button type="button" class="secondary" onClick={() => setOpen(true)}>
        {t("app.newSecret")}
      </button>
      <Dialog open={open} onClose={() => setOpen(false)} title={t("app.newSecret")}>
        <form onSubmit={submit} novalidate>
          <p>{t("app.newSecretIntro")}</p>
          <fieldset>
            <legend>{t("appForm.secret")}</legend>
            <label>
              <input type="radio" name="new-secret-mode" value="generate" checked={mode === "generate"} onChange={() => setMode("generate")} />
              {t("appForm.generate")}
            </label>
            <label>
              <input type="radio" name="new-secret-mode" value="enter" checked={mode === "enter"} onChange={() => setMode("enter")} />
              {t("appForm.enter")}
            </label>
          </fieldset>
          {mode === "enter" && (
            <>
              <label for="new-secret">{t("appForm.secretValue")}</label>
              <input
                id="new-secret"
                type="password"
                class="mono"
                autoComplete="new-password"
                value={secret}
                onInput={(e) => setSecret(e.currentTarget.value)}
                aria-invalid={secret ? String(invalid) : undefined}
                aria-describedby="new-secret-help"
              />
              <small id="new-secret-help">{t("appForm.secretHelp")}</small>
            </>
          )}
          <ErrorAlert error={error} />
          <div class="actions">
            <button type="button" class="secondary" onClick={() => setOpen(false)} disabled={busy}>
              {t("cancel")}
            </button>
            <button type="submit" disabled={busy || invalid} aria-busy={busy ? "true" : undefined}>
              {t("app.setSecret")}
            </button>
          </div>
        </form>
      </Dialog>
      <SecretDialog secret={shown} onClose={() => setShown(null)} />
    </>
  );
}

export function AppPage({ params }) {
  const { t } = useI18n();
  const me = useMe();
  const id = decode(params.id);
  const [, navigate] = useLocation();
  const app = useResource(`/apps/${seg(id)}`);
  const [notice, setNotice] = useState(takeFlash);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const canChange = may(me, "change");

  /** A refused change: on 412 the app is read again (the form follows the new version). */
  const refused = async (e, setErr) => {
    if (e.code === "precondition_failed") await app.reload();
    setErr(e);
  };

  const save = async (body) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const { data, etag } = await api(`/apps/${seg(id)}`, { method: "PUT", body, ifMatch: app.etag });
      app.set(data, etag);
      setEditing(false);
      setNotice({ key: "appForm.saved" });
    } catch (e) {
      await refused(e, setError);
    } finally {
      setBusy(false);
    }
  };

  const [ask, question] = useQuestion({
    questions: {
      delete: {
        title: "app.deleteTitle",
        body: "app.deleteBody",
        confirm: "app.deleteConfirm",
        danger: true,
        call: () => api(`/apps/${seg(id)}`, { method: "DELETE", ifMatch: app.etag }),
        done: () => {
          flash({ key: "apps.deleted", values: { id } });
          navigate("/apps");
        },
      },
    },
    values: () => ({ name: app.data && app.data.name, id }),
    fail: refused,
  });

  const data = app.data;
  return (
    <>
      <p class="crumbs">
        <Link href="/apps">{t("app.back")}</Link>
      </p>
      <h1>
        {data ? data.name : t("app.page")} {data && <code class="heading-id">{id}</code>}
      </h1>
      <Notice notice={notice} />
      {app.loading && !data && <Loading />}
      {!data && <ErrorAlert error={app.error} />}
      {data && (
        <>
          {!editing && (
            <div class="toolbar">
              {canChange && (
                <button type="button" onClick={() => setEditing(true)}>
                  {t("app.edit")}
                </button>
              )}
              {canChange && (data.has_secret || sharesSecret(data.target)) && <NewSecret app={data} onDone={(n) => (setNotice(n), app.reload())} />}
              {canChange && (
                <button type="button" class="danger outline" onClick={() => ask("delete")}>
                  {t("app.delete")}
                </button>
              )}
              <Link href={`/audit/target/${encodeURIComponent(`app:${id}`)}`}>{t("app.audit")}</Link>
            </div>
          )}
          {!canChange && <p class="muted">{t("apps.readOnly")}</p>}
          <section aria-labelledby="settings-heading">
            <h2 id="settings-heading">{editing ? t("app.edit") : t("app.settings")}</h2>
            {editing ? (
              <AppForm key={app.etag} mode="edit" app={data} busy={busy} error={error} onSubmit={save} onCancel={() => (setEditing(false), setError(null))} />
            ) : (
              <Settings app={data} />
            )}
          </section>
          {question}
        </>
      )}
    </>
  );
}
