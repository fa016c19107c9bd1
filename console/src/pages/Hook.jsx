// One telephony hook: its settings, whether it is the active one, its last 30 days, and (admins)
// a preview sent once. Admins change it (PUT with If-Match: the ETag read; a 412 reloads it and
// says so; the secret is write only, kept when left empty) and delete it (with If-Match; the API
// refuses the active hook and another's fallback, and the page says why). Admins and operators
// activate it (it replaces the active one) or deactivate it (then no SMS code is delivered until
// another is activated); each of these is confirmed first.
import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api, seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { flash, may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { useQuestion } from "../components/Dialog.jsx";
import { ErrorAlert, Loading, Notice } from "../components/Messages.jsx";
import { HookError, HookForm } from "../components/HookForm.jsx";
import { HookMetrics } from "../components/HookMetrics.jsx";
import { HookPreview } from "../components/HookPreview.jsx";
import { ActiveBadge, AuthSummary } from "./Hooks.jsx";
import { decode } from "./App.jsx";

function Settings({ hook, hooks }) {
  const { t } = useI18n();
  const a = hook.auth || {};
  const fallbackOf = hooks.filter((h) => h.fallback === hook.name).map((h) => h.name);
  return (
    <dl class="facts">
      <div class="block">
        <dt>{t("hook.url")}</dt>
        <dd>
          <code class="hook-url">{hook.url}</code>
        </dd>
      </div>
      <div>
        <dt>{t("hook.auth")}</dt>
        <dd>
          <AuthSummary auth={a} />
        </dd>
      </div>
      {a.type === "oauth2" && (
        <>
          <div>
            <dt>{t("hook.tokenUrl")}</dt>
            <dd>
              <code>{a.token_url}</code>
            </dd>
          </div>
          <div>
            <dt>{t("hook.clientId")}</dt>
            <dd>
              <code>{a.client_id}</code>
            </dd>
          </div>
          <div>
            <dt>{t("hook.scope")}</dt>
            <dd>{a.scope ? <code>{a.scope}</code> : <span class="muted">{t("none")}</span>}</dd>
          </div>
        </>
      )}
      <div>
        <dt>{t("hook.secret")}</dt>
        <dd>{a.has_secret ? t("hook.secretStored") : t("hook.secretAbsent")}</dd>
      </div>
      <div>
        <dt>{t("hook.fallback")}</dt>
        <dd>{hook.fallback ? <Link href={`/hooks/${encodeURIComponent(hook.fallback)}`}>{hook.fallback}</Link> : t("hooks.noFallback")}</dd>
      </div>
      <div>
        <dt>{t("hook.fallbackOf")}</dt>
        <dd>
          {fallbackOf.length
            ? fallbackOf.map((n, i) => (
                <span key={n}>
                  {i ? ", " : ""}
                  <Link href={`/hooks/${encodeURIComponent(n)}`}>{n}</Link>
                </span>
              ))
            : t("none")}
        </dd>
      </div>
      <div>
        <dt>{t("hook.version")}</dt>
        <dd>{hook.version}</dd>
      </div>
    </dl>
  );
}

export function HookPage({ params }) {
  const { t } = useI18n();
  const me = useMe();
  const name = decode(params.name);
  const [, navigate] = useLocation();
  const hook = useResource(`/hooks/${seg(name)}`);
  const all = useResource("/hooks");
  const [notice, setNotice] = useState(takeFlash);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const canChange = may(me, "change");
  const canActivate = may(me, "activateHook");
  const data = hook.data;
  const hooks = all.data ? all.data.hooks : [];
  const activeHook = hooks.find((h) => h.active);
  const isActive = data ? Boolean(data.active) : false;
  // Another hook that is active now (it would be replaced by this one).
  const other = activeHook && activeHook.name !== name ? activeHook.name : null;

  /** A refused change: on 412 the hook is read again (the form follows the new version). */
  const refused = async (e, setErr) => {
    if (e.code === "precondition_failed") await hook.reload();
    setErr(e);
  };

  const reloadBoth = () => Promise.all([hook.reload(), all.reload()]);

  const save = async (body) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const { data: next, etag } = await api(`/hooks/${seg(name)}`, { method: "PUT", body, ifMatch: hook.etag });
      // The answer says nothing of being active: that does not change here.
      hook.set({ ...next, active: data.active }, etag);
      setEditing(false);
      setNotice({ key: "hookForm.saved" });
      all.reload();
    } catch (e) {
      await refused(e, setError);
    } finally {
      setBusy(false);
    }
  };

  const [open, question] = useQuestion({
    questions: {
      activate: {
        title: "hook.activateTitle",
        body: other ? "hook.activateReplaces" : "hook.activateFirst",
        confirm: "hook.activateConfirm",
        call: () => api(`/hooks/${seg(name)}/activate`, { method: "POST" }),
        done: () => {
          setNotice({ key: "hook.activated", values: { name } });
          return reloadBoth();
        },
      },
      deactivate: {
        title: "hook.deactivateTitle",
        body: "hook.deactivateBody",
        confirm: "hook.deactivateConfirm",
        danger: true,
        call: () => api(`/hooks/${seg(name)}/deactivate`, { method: "POST" }),
        done: () => {
          setNotice({ key: "hook.deactivated", values: { name } });
          return reloadBoth();
        },
      },
      delete: {
        title: "hook.deleteTitle",
        body: "hook.deleteBody",
        confirm: "hook.deleteConfirm",
        danger: true,
        call: () => api(`/hooks/${seg(name)}`, { method: "DELETE", ifMatch: hook.etag }),
        done: () => {
          flash({ key: "hooks.deleted", values: { name } });
          navigate("/hooks");
        },
      },
    },
    values: () => ({ name, active: other || "" }),
    fail: refused,
    Alert: HookError,
  });
  // Asking hides the last notice.
  const ask = (action) => (setNotice(null), open(action));

  return (
    <>
      <p class="crumbs">
        <Link href="/hooks">{t("hook.back")}</Link>
      </p>
      <h1>
        {data ? name : t("hook.page")} {data && <ActiveBadge active={isActive} />}
      </h1>
      <Notice notice={notice} />
      {hook.loading && !data && <Loading />}
      {!data && <ErrorAlert error={hook.error} />}
      {data && (
        <>
          <p class={isActive ? "active-line" : "muted"}>{isActive ? t("hook.isActive") : other ? t("hook.isInactive", { active: other }) : t("hooks.noneActive")}</p>
          {!editing && (
            <div class="toolbar">
              {canChange && (
                <button type="button" onClick={() => (setError(null), setNotice(null), setEditing(true))}>
                  {t("hook.edit")}
                </button>
              )}
              {canActivate &&
                (isActive ? (
                  <button type="button" class="danger outline" onClick={() => ask("deactivate")}>
                    {t("hook.deactivate")}
                  </button>
                ) : (
                  <button type="button" class="secondary" onClick={() => ask("activate")}>
                    {t("hook.activate")}
                  </button>
                ))}
              {canChange && (
                <button type="button" class="danger outline" onClick={() => ask("delete")}>
                  {t("hook.delete")}
                </button>
              )}
              <Link href={`/audit/target/${encodeURIComponent(`hook:${name}`)}`}>{t("hook.audit")}</Link>
            </div>
          )}
          {!canChange && <p class="muted">{t(canActivate ? "hooks.activateOnly" : "hooks.readOnly")}</p>}

          <section aria-labelledby="settings-heading">
            <h2 id="settings-heading">{editing ? t("hook.edit") : t("hook.settings")}</h2>
            {editing ? (
              <HookForm key={hook.etag} mode="edit" hook={data} hooks={hooks} busy={busy} error={error} onSubmit={save} onCancel={() => (setEditing(false), setError(null))} />
            ) : (
              <Settings hook={data} hooks={hooks} />
            )}
          </section>

          <HookMetrics name={name} />

          {canChange && <HookPreview name={name} />}

          {question}
        </>
      )}
    </>
  );
}
