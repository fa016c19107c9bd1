// The telephony hooks (GET /hooks): each one's URL, how it authenticates, its fallback, and
// which one is active (the bridge sends every SMS code through it); when none is, the page says
// that no codes are delivered. Admins add one (POST /hooks), then land on its page.
import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { flash, may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { ErrorAlert, Loading, Notice } from "../components/Messages.jsx";
import { HookForm } from "../components/HookForm.jsx";

/** How a hook authenticates, in a few words. */
export function AuthSummary({ auth }) {
  const { t } = useI18n();
  if (!auth) return null;
  if (auth.type === "header") {
    return (
      <>
        {t("hooks.authKinds.header")} <code>{auth.name}</code>
      </>
    );
  }
  return <>{t(`hooks.authKinds.${auth.type}`)}</>;
}

/** "Active" or "Inactive", as a badge. */
export function ActiveBadge({ active }) {
  const { t } = useI18n();
  return active ? <span class="state state-signing active-badge">{t("hooks.active")}</span> : <span class="state state-retired">{t("hooks.inactive")}</span>;
}

/** Which hook is active, or that none is (then no SMS codes are delivered). */
export function ActiveLine({ hooks }) {
  const { t } = useI18n();
  const active = hooks.find((h) => h.active);
  return active ? (
    <p class="active-line">
      {t("hooks.activeNow", { name: active.name })}
    </p>
  ) : (
    <p class="warning">{t("hooks.noneActive")}</p>
  );
}

function NewHook({ hooks, onCancel }) {
  const { t } = useI18n();
  const [, navigate] = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const section = useRef(null);
  useEffect(() => {
    const name = section.current && section.current.querySelector("input[name=name]");
    if (name) name.focus();
  }, []);

  const submit = async (body) => {
    setBusy(true);
    setError(null);
    try {
      const { data } = await api("/hooks", { method: "POST", body });
      flash({ key: "hooks.created", values: { name: data.name } });
      navigate(`/hooks/${encodeURIComponent(data.name)}`);
    } catch (e) {
      setError(e);
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="new-hook-heading" class="new-hook" ref={section}>
      <h2 id="new-hook-heading">{t("hooks.new")}</h2>
      <HookForm mode="create" hooks={hooks} busy={busy} error={error} onSubmit={submit} onCancel={onCancel} />
    </section>
  );
}

export function Hooks() {
  const { t } = useI18n();
  const me = useMe();
  const [notice] = useState(takeFlash);
  const [adding, setAdding] = useState(false);
  const hooks = useResource("/hooks");
  const canChange = may(me, "change");
  const canActivate = may(me, "activateHook");
  const list = hooks.data ? hooks.data.hooks : [];
  return (
    <>
      <div class="page-head">
        <h1>{t("hooks.heading")}</h1>
        {canChange && !adding && (
          <button type="button" onClick={() => setAdding(true)}>
            {t("hooks.new")}
          </button>
        )}
      </div>
      <p class="muted">{t("hooks.intro")}</p>
      <Notice notice={notice} />
      {!canChange && <p class="muted">{t(canActivate ? "hooks.activateOnly" : "hooks.readOnly")}</p>}
      {canChange && adding && <NewHook hooks={list} onCancel={() => setAdding(false)} />}
      {hooks.loading && !hooks.data && <Loading />}
      <ErrorAlert error={hooks.error} />
      {hooks.data &&
        (list.length ? (
          <>
            <ActiveLine hooks={list} />
            <div class="overflow-auto">
              <table class="striped hooks">
                <thead>
                  <tr>
                    <th scope="col">{t("hooks.name")}</th>
                    <th scope="col">{t("hooks.status")}</th>
                    <th scope="col">{t("hooks.url")}</th>
                    <th scope="col" class="wide-only">
                      {t("hooks.auth")}
                    </th>
                    <th scope="col" class="wide-only">
                      {t("hooks.fallback")}
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((hook) => (
                    <tr key={hook.name} class={hook.active ? "is-active" : undefined}>
                      <th scope="row">
                        <Link href={`/hooks/${encodeURIComponent(hook.name)}`}>{hook.name}</Link>
                      </th>
                      <td>
                        <ActiveBadge active={hook.active} />
                      </td>
                      <td>
                        <code class="hook-url">{hook.url}</code>
                      </td>
                      <td class="wide-only">
                        <AuthSummary auth={hook.auth} />
                      </td>
                      <td class="wide-only">{hook.fallback ? <code>{hook.fallback}</code> : <span class="muted">{t("hooks.noFallback")}</span>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        ) : (
          <>
            <p class="warning">{t("hooks.noneActive")}</p>
            <p>{t("hooks.empty")}</p>
          </>
        ))}
    </>
  );
}
