// One organisation: its settings, its connection to its company's OpenID provider and its SCIM
// tokens. Admins change the settings and the connection (PUT with If-Match: the ETag read; a 412
// reloads it and says so), disconnect it, issue tokens (the value shown once, with the SCIM base
// URL), revoke them, and delete the organisation; each destructive change is confirmed first.
import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api, seg } from "../api.js";
import { apiUrl } from "../auth.js";
import { useI18n } from "../i18n.jsx";
import { flash, may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { useQuestion } from "../components/Dialog.jsx";
import { ErrorAlert, Loading, Notice, Time } from "../components/Messages.jsx";
import { SecretDialog } from "../components/SecretDialog.jsx";
import { OrgForm, explainTaken } from "../components/OrgForm.jsx";
import { ConnectionForm } from "../components/ConnectionForm.jsx";
import { decode } from "./App.jsx";

export const scimBaseUrl = () => `${apiUrl}/scim/v2`;

function Settings({ org }) {
  const { t } = useI18n();
  const p = org.policies || {};
  return (
    <dl class="facts">
      <div>
        <dt>{t("orgs.domains")}</dt>
        <dd>
          {org.domains.length ? (
            <ul class="plain">
              {org.domains.map((d) => (
                <li key={d}>
                  <code>{d}</code>
                </li>
              ))}
            </ul>
          ) : (
            t("orgs.noDomains")
          )}
        </dd>
      </div>
      <div>
        <dt>{t("orgForm.deleteMode")}</dt>
        <dd>{t(`orgForm.deleteModes.${p.delete || "deactivate"}`)}</dd>
      </div>
      <div>
        <dt>{t("orgForm.passwordLegend")}</dt>
        <dd>{p.password_sign_in ? t("orgs.passwordAllowed") : t("orgs.passwordRefused")}</dd>
      </div>
      <div>
        <dt>{t("app.version")}</dt>
        <dd>{org.version}</dd>
      </div>
    </dl>
  );
}

function Connection({ connection }) {
  const { t } = useI18n();
  const c = connection;
  return (
    <dl class="facts">
      <div>
        <dt>{t("orgConnection.kind")}</dt>
        <dd>{t(`orgConnection.kinds.${c.kind}`)}</dd>
      </div>
      <div>
        <dt>{t("orgConnection.issuer")}</dt>
        <dd>
          <code>{c.issuer}</code>
        </dd>
      </div>
      <div>
        <dt>{t("orgConnection.clientId")}</dt>
        <dd>
          <code>{c.client_id}</code>
        </dd>
      </div>
      <div>
        <dt>{t("orgConnection.clientSecret")}</dt>
        <dd>{c.has_client_secret ? t("orgConnection.secretStored") : t("orgConnection.secretAbsent")}</dd>
      </div>
      {c.identity_provider && (
        <div>
          <dt>{t("orgConnection.identityProvider")}</dt>
          <dd>
            <code>{c.identity_provider}</code>
          </dd>
        </div>
      )}
      <div>
        <dt>{t("orgConnection.provisioning")}</dt>
        <dd>{t(`orgConnection.provisionings.${c.provisioning || "scim"}`)}</dd>
      </div>
      <div>
        <dt>{t("orgConnection.emailClaim")}</dt>
        <dd>
          <code>{c.email_claim || "email"}</code>
        </dd>
      </div>
      <div>
        <dt>{t("orgConnection.loginHint")}</dt>
        <dd>{c.login_hint !== false ? t("yes") : t("no")}</dd>
      </div>
      <div>
        <dt>{t("orgConnection.singleLogout")}</dt>
        <dd>{c.single_logout ? t("yes") : t("no")}</dd>
      </div>
      <div>
        <dt>{t("orgConnection.metadata")}</dt>
        <dd>{c.metadata ? t("orgConnection.metadataKept", { endpoint: c.metadata.authorization_endpoint }) : t("orgConnection.metadataAtSignIn")}</dd>
      </div>
    </dl>
  );
}

/** Issuing a token: its label, then the value shown once with the SCIM base URL. */
function IssueToken({ orgId, onIssued }) {
  const { t } = useI18n();
  const [label, setLabel] = useState("");
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [shown, setShown] = useState(null);
  const trimmed = label.trim();
  const invalid = !trimmed || [...trimmed].length > 100;

  const submit = async (e) => {
    e.preventDefault();
    setTried(true);
    if (invalid) return;
    setBusy(true);
    setError(null);
    try {
      const { data } = await api(`/orgs/${seg(orgId)}/tokens`, { method: "POST", body: { label: trimmed } });
      setLabel("");
      setTried(false);
      setShown(data.token);
      onIssued({ key: "orgTokens.issued", values: { label: data.label } });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <form onSubmit={submit} novalidate class="issue-token">
        <ErrorAlert error={error} />
        <label for="token-label">{t("orgTokens.labelField")}</label>
        <div role="group">
          <input
            id="token-label"
            name="label"
            value={label}
            onInput={(e) => setLabel(e.currentTarget.value)}
            autoComplete="off"
            maxLength={100}
            aria-invalid={tried && invalid ? "true" : undefined}
            aria-describedby={tried && invalid ? "token-label-error token-label-help" : "token-label-help"}
          />
          <button type="submit" disabled={busy} aria-busy={busy ? "true" : undefined}>
            {t("orgTokens.issue")}
          </button>
        </div>
        {tried && invalid && (
          <small id="token-label-error" class="error-text">
            {t("orgTokens.labelInvalid")}
          </small>
        )}
        <small id="token-label-help" class="muted">
          {t("orgTokens.labelHelp")}
        </small>
      </form>
      <SecretDialog
        secret={shown}
        onClose={() => setShown(null)}
        title={t("orgTokens.shownTitle")}
        note={t("orgTokens.shownNote")}
        label={t("orgTokens.shownLabel")}
        extra={{ label: t("orgTokens.baseUrl"), value: scimBaseUrl() }}
      />
    </>
  );
}

export function OrgPage({ params }) {
  const { t } = useI18n();
  const me = useMe();
  const id = decode(params.id);
  const [, navigate] = useLocation();
  const org = useResource(`/orgs/${seg(id)}`);
  const tokens = useResource(`/orgs/${seg(id)}/tokens`);
  const [notice, setNotice] = useState(takeFlash);
  const [editing, setEditing] = useState(null); // "settings" | "connection"
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const canChange = may(me, "change");
  const data = org.data;

  /** A refused change: on 412 the organisation is read again (the forms follow the new version). */
  const refused = async (e, setErr) => {
    if (e.code === "precondition_failed") await org.reload();
    setErr(e);
  };

  const edit = (what) => {
    setError(null);
    setNotice(null);
    setEditing(what);
  };

  const save = async (body) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const { data: next, etag } = await api(`/orgs/${seg(id)}`, { method: "PUT", body, ifMatch: org.etag });
      org.set(next, etag);
      setEditing(null);
      setNotice({ key: "orgForm.saved" });
    } catch (e) {
      await refused(await explainTaken(e), setError);
    } finally {
      setBusy(false);
    }
  };

  const connect = async (body) => {
    setBusy(true);
    setError(null);
    setNotice(null);
    try {
      const { data: next, etag } = await api(`/orgs/${seg(id)}/connection`, { method: "PUT", body, ifMatch: org.etag });
      org.set(next, etag);
      setEditing(null);
      setNotice({ key: "orgConnection.saved" });
    } catch (e) {
      await refused(e, setError);
    } finally {
      setBusy(false);
    }
  };

  const domains = data ? data.domains.join(", ") || t("orgs.noDomains") : "";
  const [ask, question] = useQuestion({
    questions: {
      delete: {
        title: "org.deleteTitle",
        body: "org.deleteBody",
        confirm: "org.deleteConfirm",
        danger: true,
        call: () => api(`/orgs/${seg(id)}`, { method: "DELETE", ifMatch: org.etag }),
        done: () => {
          flash({ key: "orgs.deleted", values: { name: data.name } });
          navigate("/orgs");
        },
      },
      disconnect: {
        title: "orgConnection.disconnectTitle",
        body: "orgConnection.disconnectBody",
        confirm: "orgConnection.disconnect",
        danger: true,
        call: () => api(`/orgs/${seg(id)}/connection`, { method: "DELETE", ifMatch: org.etag }),
        done: ({ data: next, etag }) => {
          org.set(next, etag);
          setNotice({ key: "orgConnection.disconnected" });
        },
      },
      revoke: {
        title: "orgTokens.revokeTitle",
        body: "orgTokens.revokeBody",
        confirm: "orgTokens.revoke",
        danger: true,
        call: (token) => api(`/orgs/${seg(id)}/tokens/${seg(token.id)}`, { method: "DELETE" }),
        done: (_, token) => {
          setNotice({ key: "orgTokens.revoked", values: { label: token.label } });
          tokens.reload();
        },
      },
    },
    // `token`: the one a revoke asks about.
    values: (token) => data && { name: data.name, domains, issuer: data.connection ? data.connection.issuer : "", label: token ? token.label : "" },
    fail: refused,
  });
  const list = tokens.data ? tokens.data.tokens : [];

  return (
    <>
      <p class="crumbs">
        <Link href="/orgs">{t("org.back")}</Link>
      </p>
      <h1>
        {data ? data.name : t("org.page")} {data && <code class="heading-id">{id}</code>}
      </h1>
      <Notice notice={notice} />
      {org.loading && !data && <Loading />}
      {!data && <ErrorAlert error={org.error} />}
      {data && (
        <>
          {!editing && (
            <div class="toolbar">
              {canChange && (
                <button type="button" onClick={() => edit("settings")}>
                  {t("org.edit")}
                </button>
              )}
              {canChange && (
                <button type="button" class="danger outline" onClick={() => ask("delete")}>
                  {t("org.delete")}
                </button>
              )}
              <Link href={`/audit/target/${encodeURIComponent(`org:${id}`)}`}>{t("org.audit")}</Link>
            </div>
          )}
          {!canChange && <p class="muted">{t("orgs.readOnly")}</p>}

          <section aria-labelledby="settings-heading">
            <h2 id="settings-heading">{editing === "settings" ? t("org.edit") : t("org.settings")}</h2>
            {editing === "settings" ? (
              <OrgForm key={org.etag} mode="edit" org={data} busy={busy} error={error} onSubmit={save} onCancel={() => (setEditing(null), setError(null))} />
            ) : (
              <Settings org={data} />
            )}
          </section>

          <section aria-labelledby="connection-heading">
            <h2 id="connection-heading">{t("orgConnection.heading")}</h2>
            {editing === "connection" ? (
              <>
                <p class="muted small">{t("orgConnection.intro")}</p>
                <ConnectionForm key={org.etag} connection={data.connection} busy={busy} error={error} onSubmit={connect} onCancel={() => (setEditing(null), setError(null))} />
              </>
            ) : (
              <>
                {data.connection ? <Connection connection={data.connection} /> : <p>{t("orgConnection.none", { domains })}</p>}
                {canChange && !editing && (
                  <div class="toolbar">
                    <button type="button" class={data.connection ? "secondary" : ""} onClick={() => edit("connection")}>
                      {data.connection ? t("orgConnection.change") : t("orgConnection.connect")}
                    </button>
                    {data.connection && (
                      <button type="button" class="danger outline" onClick={() => ask("disconnect")}>
                        {t("orgConnection.disconnect")}
                      </button>
                    )}
                  </div>
                )}
              </>
            )}
          </section>

          <section aria-labelledby="tokens-heading">
            <h2 id="tokens-heading">{t("orgTokens.heading")}</h2>
            <p class="muted small">
              {t("orgTokens.intro")} <code class="scim-url">{scimBaseUrl()}</code>
            </p>
            {tokens.loading && !tokens.data && <Loading />}
            <ErrorAlert error={tokens.error} />
            {tokens.data &&
              (list.length ? (
                <div class="overflow-auto">
                  <table class="striped tokens">
                    <thead>
                      <tr>
                        <th scope="col">{t("orgTokens.label")}</th>
                        <th scope="col">{t("orgTokens.id")}</th>
                        <th scope="col">{t("orgTokens.created")}</th>
                        {canChange && (
                          <th scope="col">
                            <span class="visually-hidden">{t("orgTokens.actions")}</span>
                          </th>
                        )}
                      </tr>
                    </thead>
                    <tbody>
                      {[...list]
                        .sort((a, b) => a.created_at - b.created_at)
                        .map((token) => (
                          <tr key={token.id}>
                            <th scope="row">{token.label}</th>
                            <td>
                              <code class="kid">{token.id}</code>
                            </td>
                            <td>
                              <Time at={token.created_at} />
                            </td>
                            {canChange && (
                              <td>
                                <button type="button" class="danger outline small" onClick={() => ask("revoke", token)} aria-label={t("orgTokens.revokeNamed", { label: token.label })}>
                                  {t("orgTokens.revoke")}
                                </button>
                              </td>
                            )}
                          </tr>
                        ))}
                    </tbody>
                  </table>
                </div>
              ) : (
                <p>{t("orgTokens.none")}</p>
              ))}
            {canChange && (
              <>
                {list.length >= 2 && <p class="small">{t("orgTokens.twoAtMost")}</p>}
                <IssueToken orgId={id} onIssued={(n) => (setNotice(n), tokens.reload())} />
              </>
            )}
          </section>

          {question}
        </>
      )}
    </>
  );
}
