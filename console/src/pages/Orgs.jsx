// Every organisation, in id order: its domains, whether it is connected to its provider, its
// policies. Admins may add one (POST /orgs; the API gives it its id), then land on its page.
import { useEffect, useRef, useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { flash, may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { ErrorAlert, Loading, Notice } from "../components/Messages.jsx";
import { OrgForm, explainTaken } from "../components/OrgForm.jsx";

/** A domain that may wrap after its dots on a phone. */
const breakable = (domain) => domain.split(".").flatMap((label, i) => (i ? [".", <wbr key={i} />, label] : [label]));

/** The two policies in a few words. */
export function PolicySummary({ policies }) {
  const { t } = useI18n();
  const p = policies || {};
  return (
    <ul class="plain small">
      <li>{t("orgs.deleteSummary", { mode: t(`orgs.deleteModes.${p.delete || "deactivate"}`) })}</li>
      <li>{p.password_sign_in ? t("orgs.passwordAllowed") : t("orgs.passwordRefused")}</li>
    </ul>
  );
}

function NewOrg({ onCancel }) {
  const { t } = useI18n();
  const [, navigate] = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const heading = useRef(null);
  useEffect(() => {
    const name = heading.current && heading.current.parentElement.querySelector("input[name=name]");
    if (name) name.focus();
  }, []);

  const submit = async (body) => {
    setBusy(true);
    setError(null);
    try {
      const { data } = await api("/orgs", { method: "POST", body });
      flash({ key: "orgs.created", values: { name: data.name } });
      navigate(`/orgs/${encodeURIComponent(data.id)}`);
    } catch (e) {
      setError(await explainTaken(e));
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="new-org-heading" class="new-org">
      <h2 id="new-org-heading" ref={heading}>
        {t("orgs.new")}
      </h2>
      <OrgForm mode="create" busy={busy} error={error} onSubmit={submit} onCancel={onCancel} />
    </section>
  );
}

export function Orgs() {
  const { t } = useI18n();
  const me = useMe();
  const [notice] = useState(takeFlash);
  const [adding, setAdding] = useState(false);
  const orgs = useResource("/orgs");
  const canChange = may(me, "change");
  return (
    <>
      <div class="page-head">
        <h1>{t("orgs.heading")}</h1>
        {canChange && !adding && (
          <button type="button" onClick={() => setAdding(true)}>
            {t("orgs.new")}
          </button>
        )}
      </div>
      <p class="muted">{t("orgs.intro")}</p>
      <Notice notice={notice} />
      {!canChange && <p class="muted">{t("orgs.readOnly")}</p>}
      {canChange && adding && <NewOrg onCancel={() => setAdding(false)} />}
      {orgs.loading && !orgs.data && <Loading />}
      <ErrorAlert error={orgs.error} />
      {orgs.data &&
        (orgs.data.orgs.length ? (
          <div class="overflow-auto">
            <table class="striped orgs">
              <thead>
                <tr>
                  <th scope="col">{t("orgs.name")}</th>
                  <th scope="col">{t("orgs.domains")}</th>
                  <th scope="col">{t("orgs.connection")}</th>
                  <th scope="col" class="wide-only">
                    {t("orgs.policies")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {orgs.data.orgs.map((org) => (
                  <tr key={org.id}>
                    <th scope="row">
                      <Link href={`/orgs/${encodeURIComponent(org.id)}`}>{org.name}</Link>
                      <br />
                      <code class="small org-id">{org.id}</code>
                    </th>
                    <td>{org.domains.length ? org.domains.map((d) => <code key={d} class="tag domain">{breakable(d)}</code>) : <span class="muted">{t("orgs.noDomains")}</span>}</td>
                    <td>
                      {org.connection ? <span class="state state-signing">{t("orgs.connected")}</span> : <span class="state state-retired">{t("orgs.notConnected")}</span>}
                    </td>
                    <td class="wide-only">
                      <PolicySummary policies={org.policies} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{t("orgs.empty")}</p>
        ))}
    </>
  );
}
