// One person: organisation, groups, console role, second factors, last sign-in, live sessions,
// the OpenID Connect apps that keep them signed in, the apps whose access admits them, and their consent decisions (where they stand with each current document, and every record).
// Admins disable or enable them, send an invitation not taken up again, and give or take a
// console role (never their own); admins and
// operators sign them out everywhere, of one session or of one app that keeps them signed in, reset their second factors and require a
// new password (operators only of people without a console role). Each change is confirmed first.
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api, seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { useQuestion } from "../components/Dialog.jsx";
import { ErrorAlert, Loading, Notice, Time } from "../components/Messages.jsx";
import { AppIdCell, decode, listsNoOne } from "./App.jsx";

const ROLES = ["admin", "operator", "viewer"];
// Cognito's statuses whose password an admin may reset (a reset pending: a new code).
const RESETTABLE = ["CONFIRMED", "RESET_REQUIRED"];
// Cognito's other statuses the page names (any other reads as unknown).
const SHOWN_STATUSES = ["RESET_REQUIRED", "FORCE_CHANGE_PASSWORD", "UNCONFIRMED", "EXTERNAL_PROVIDER"];

/** The message key of a person's status: a company's people have no password of their own
 * (Cognito's `FORCE_CHANGE_PASSWORD`, as for an invitation not taken up). */
function statusKey(p) {
  if (p.status === "FORCE_CHANGE_PASSWORD" && p.org) return "COMPANY";
  return SHOWN_STATUSES.includes(p.status) ? p.status : "UNKNOWN";
}

export function Person({ params }) {
  const { t, time } = useI18n();
  const me = useMe();
  const username = decode(params.username);
  const person = useResource(`/people/${seg(username)}`);
  const [notice, setNotice] = useState(takeFlash);
  const [newRole, setNewRole] = useState(null);

  const p = person.data;
  // Until the API has answered, the heading is the page's: never text from the address.
  const who = p ? p.email || p.username : t("people.page");
  const self = p && (p.username === me.username || (p.sub && p.sub === me.id));
  const canChange = may(me, "change") && !self;
  const canSignOut = may(me, "signOut");
  // The helpdesk's actions: an admin's for anyone else, an operator's for people with no console role.
  const canReset = !self && may(me, "resetCredentials") && (me.role === "admin" || (p && !p.role));
  const chosenRole = newRole ?? (p && p.role ? p.role : "");

  /** A session as the console names it: how it began and when. */
  const sessionName = (s) => t("people.sessionName", { method: t(`people.methods.${s.method}`), since: time(s.created) });
  // `arg`: a question's argument: a role, or the session being ended.
  const values = (arg) => {
    const role = ROLES.includes(arg) ? arg : null;
    const session = arg && arg.method ? sessionName(arg) : "";
    const app = arg && arg.app ? arg.name : "";
    return { who, session, app, role: role ? t(`roles.${role}`) : t("none"), help: role ? t(`roleHelp.${role}`) : "" };
  };
  /** What a change answers: the person as it left them, and `key` said of them. */
  const changed = (key) => ({ data }, role) => {
    person.set(data, null);
    setNewRole(null);
    setNotice({ key, values: { ...values(role), who: data.email || data.username } });
  };
  const [ask, question] = useQuestion({
    questions: {
      disable: { title: "people.disableTitle", body: "people.disableBody", confirm: "people.disable", danger: true, call: () => api(`/people/${seg(username)}/disable`, { method: "POST" }), done: changed("people.disabledDone") },
      enable: { title: "people.enableTitle", body: "people.enableBody", confirm: "people.enable", call: () => api(`/people/${seg(username)}/enable`, { method: "POST" }), done: changed("people.enabledDone") },
      endSession: {
        title: "people.endSessionTitle",
        body: "people.endSessionBody",
        confirm: "people.endSession",
        danger: true,
        call: (s) => api(`/people/${seg(username)}/sessions/${seg(s.id)}/sign-out`, { method: "POST" }),
        done: changed("people.sessionEndedDone"),
      },
      signOutApp: {
        title: "people.signOutAppTitle",
        body: "people.signOutAppBody",
        confirm: "people.signOutApp",
        danger: true,
        call: (c) => api(`/people/${seg(username)}/apps/${seg(c.id)}/sign-out`, { method: "POST" }),
        done: changed("people.appSignedOutDone"),
      },
      resetFactors: {
        title: "people.resetFactorsTitle",
        body: "people.resetFactorsBody",
        confirm: "people.resetFactors",
        danger: true,
        call: () => api(`/people/${seg(username)}/factors/reset`, { method: "POST" }),
        done: changed("people.factorsResetDone"),
      },
      resendInvitation: {
        title: "people.resendInvitationTitle",
        body: "people.resendInvitationBody",
        confirm: "people.resendInvitation",
        call: () => api(`/people/${seg(username)}/invitation`, { method: "POST" }),
        done: changed("people.invitationResentDone"),
      },
      resetPassword: {
        title: "people.resetPasswordTitle",
        body: "people.resetPasswordBody",
        confirm: "people.resetPassword",
        danger: true,
        call: () => api(`/people/${seg(username)}/password/reset`, { method: "POST" }),
        done: changed("people.passwordResetDone"),
      },
      signOut: { title: "people.signOutTitle", body: "people.signOutBody", confirm: "people.signOut", danger: true, call: () => api(`/people/${seg(username)}/sign-out`, { method: "POST" }), done: changed("people.signedOutDone") },
      grant: { title: "people.grantTitle", body: "people.grantBody", confirm: "people.changeRole", call: (role) => api(`/people/${seg(username)}/role`, { method: "PUT", body: { role } }), done: changed("people.roleDone") },
      revoke: { title: "people.revokeTitle", body: "people.revokeBody", confirm: "people.changeRole", danger: true, call: () => api(`/people/${seg(username)}/role`, { method: "DELETE" }), done: changed("people.roleDone") },
    },
    values,
  });

  return (
    <>
      <p class="crumbs">
        <Link href="/people">{t("people.back")}</Link>
      </p>
      <h1>{who}</h1>
      <Notice notice={notice} />
      {person.loading && !p && <Loading />}
      {!p && <ErrorAlert error={person.error} />}
      {p && (
        <>
          <dl class="facts">
            <div>
              <dt>{t("people.email")}</dt>
              <dd>{p.email || "—"}</dd>
            </div>
            <div>
              <dt>{t("people.username")}</dt>
              <dd>
                <code>{p.username}</code>
              </dd>
            </div>
            <div>
              <dt>{t("people.account")}</dt>
              <dd>
                <span class={p.enabled ? "state state-signing" : "state state-retired"}>{p.enabled ? t("people.enabled") : t("people.disabled")}</span>
                {p.status && p.status !== "CONFIRMED" && (
                  <span class="state state-next">{t(`people.statuses.${statusKey(p)}`)}</span>
                )}
              </dd>
            </div>
            <div>
              <dt>{t("people.org")}</dt>
              <dd>{p.org || "—"}</dd>
            </div>
            <div>
              <dt>{t("people.groups")}</dt>
              <dd>{p.groups.length ? p.groups.map((g) => <code key={g} class="tag">{g}</code>) : "—"}</dd>
            </div>
            <div>
              <dt>{t("people.role")}</dt>
              <dd>{p.role ? t(`roles.${p.role}`) : t("none")}</dd>
            </div>
            <div>
              <dt>{t("people.factors")}</dt>
              <dd>{p.factors.length ? p.factors.map((f) => t(`people.factorNames.${f}`)).join(", ") : t("people.noFactors")}</dd>
            </div>
            <div>
              <dt>{t("people.lastSignIn")}</dt>
              <dd>{p.last_sign_in ? <Time at={p.last_sign_in} /> : t("people.never")}</dd>
            </div>
          </dl>

          {(canChange || canSignOut || canReset || self) && (
            <section aria-labelledby="actions-heading">
              <h2 id="actions-heading">{t("people.actions")}</h2>
              {self && <p class="muted small">{t("people.self")}</p>}
              <div class="toolbar">
                {canChange &&
                  (p.enabled ? (
                    <button type="button" class="danger outline" onClick={() => ask("disable")}>
                      {t("people.disable")}
                    </button>
                  ) : (
                    <button type="button" onClick={() => ask("enable")}>
                      {t("people.enable")}
                    </button>
                  ))}
                {canReset && p.factors.length > 0 && (
                  <button type="button" class="danger outline" onClick={() => ask("resetFactors")}>
                    {t("people.resetFactors")}
                  </button>
                )}
                {canChange && p.enabled && statusKey(p) === "FORCE_CHANGE_PASSWORD" && (
                  <button type="button" onClick={() => ask("resendInvitation")}>
                    {t("people.resendInvitation")}
                  </button>
                )}
                {canReset && p.enabled && RESETTABLE.includes(p.status ?? "CONFIRMED") && (
                  <button type="button" class="danger outline" onClick={() => ask("resetPassword")}>
                    {t("people.resetPassword")}
                  </button>
                )}
                {canSignOut && (
                  <button type="button" class="secondary" onClick={() => ask("signOut")}>
                    {t("people.signOut")}
                  </button>
                )}
              </div>
              {canChange && (
                <form
                  class="role-form"
                  onSubmit={(e) => {
                    e.preventDefault();
                    if (chosenRole) ask("grant", chosenRole);
                    else ask("revoke");
                  }}
                >
                  <label for="new-role">{t("people.newRole")}</label>
                  <div role="group">
                    <select id="new-role" value={chosenRole} onChange={(e) => setNewRole(e.currentTarget.value)}>
                      <option value="">{t("none")}</option>
                      {ROLES.map((r) => (
                        <option key={r} value={r}>
                          {t(`roles.${r}`)}
                        </option>
                      ))}
                    </select>
                    <button type="submit" class="secondary" disabled={chosenRole === (p.role || "")}>
                      {t("people.changeRole")}
                    </button>
                  </div>
                </form>
              )}
            </section>
          )}

          <section aria-labelledby="sessions-heading">
            <h2 id="sessions-heading">{t("people.sessions")}</h2>
            {p.sessions.length ? (
              <div class="overflow-auto">
                <table class="striped">
                  <thead>
                    <tr>
                      <th scope="col">{t("people.method")}</th>
                      <th scope="col">{t("people.created")}</th>
                      <th scope="col">{t("people.lastSeen")}</th>
                      <th scope="col">{t("people.expires")}</th>
                      <th scope="col">{t("people.secondFactor")}</th>
                      <th scope="col">{t("people.highRisk")}</th>
                      {canSignOut && <th scope="col">{t("people.sessionAction")}</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {p.sessions.map((s) => (
                      <tr key={s.id}>
                        <td>{t(`people.methods.${s.method}`)}</td>
                        <td>
                          <Time at={s.created} />
                        </td>
                        <td>
                          <Time at={s.last_seen} />
                        </td>
                        <td>
                          <Time at={s.expires_at} />
                        </td>
                        <td>{s.second_factor ? t("yes") : t("no")}</td>
                        <td>{s.high_risk ? t("yes") : t("no")}</td>
                        {canSignOut && (
                          <td>
                            <button type="button" class="secondary outline small" aria-label={t("people.endSessionLabel", { session: sessionName(s) })} onClick={() => ask("endSession", s)}>
                              {t("people.endSession")}
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p>{t("people.noSessions")}</p>
            )}
          </section>

          <section aria-labelledby="connected-heading">
            <h2 id="connected-heading">{t("people.connected")}</h2>
            <p class="muted small">{t("people.connectedIntro")}</p>
            {(p.connected || []).length ? (
              <div class="overflow-auto">
                <table class="striped">
                  <thead>
                    <tr>
                      <th scope="col">{t("apps.name")}</th>
                      <th scope="col">{t("apps.id")}</th>
                      <th scope="col">{t("people.created")}</th>
                      <th scope="col">{t("people.expires")}</th>
                      {canSignOut && <th scope="col">{t("people.sessionAction")}</th>}
                    </tr>
                  </thead>
                  <tbody>
                    {p.connected.map((c) => (
                      <tr key={c.id}>
                        <td>{c.name}</td>
                        <AppIdCell id={c.app} />
                        <td>
                          <Time at={c.since} />
                        </td>
                        <td>
                          <Time at={c.until} />
                        </td>
                        {canSignOut && (
                          <td>
                            <button type="button" class="secondary outline small" aria-label={t("people.signOutAppLabel", { app: c.name })} onClick={() => ask("signOutApp", c)}>
                              {t("people.signOutApp")}
                            </button>
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            ) : (
              <p>{t("people.noConnected")}</p>
            )}
          </section>
          <PersonApps person={p} />
          <Consents username={p.username} />
          <p>
            <Link href={`/audit/target/${encodeURIComponent(`user:${p.username}`)}`}>{t("people.audit")}</Link>
          </p>
          {question}
        </>
      )}
    </>
  );
}

/**
 * Each app and whether its access admits the person as Cognito has them now (their groups and
 * organisation): the rule the sign-in applies, so an operator can see why someone is refused.
 */
function PersonApps({ person }) {
  const { t } = useI18n();
  const apps = useResource("/apps");
  const why = (app) => {
    const access = app.access;
    if (listsNoOne(access)) return t("people.appEveryone");
    const group = (access.groups || []).find((g) => person.groups.includes(g));
    if (group) return t("people.appGroup", { group });
    if (person.org && (access.organisations || []).includes(person.org)) return t("people.appOrg", { org: person.org });
    return null;
  };
  return (
    <section aria-labelledby="apps-heading">
      <h2 id="apps-heading">{t("people.apps")}</h2>
      <p class="muted small">{t("people.appsIntro")}</p>
      {apps.loading && !apps.data && <Loading />}
      <ErrorAlert error={apps.error} />
      {apps.data && !apps.data.apps.length && <p>{t("apps.empty")}</p>}
      {apps.data && apps.data.apps.length > 0 && (
        <div class="overflow-auto">
          <table class="striped">
            <thead>
              <tr>
                <th scope="col">{t("apps.id")}</th>
                <th scope="col">{t("people.appMay")}</th>
              </tr>
            </thead>
            <tbody>
              {apps.data.apps.map((app) => {
                const reason = why(app);
                return (
                  <tr key={app.id}>
                    <AppIdCell id={app.id} />
                    <td>{reason ? `${t("yes")} (${reason})` : t("people.appNotListed")}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** Where the person stands with each current document, and their decisions, oldest first. */
function Consents({ username }) {
  const { t } = useI18n();
  const consents = useResource(`/people/${seg(username)}/consents`);
  const c = consents.data;
  const standing = (s) =>
    s.accepted_version === s.version ? t("people.consentAccepted") : s.accepted_version ? t("people.consentOlder", { version: s.accepted_version }) : t("people.consentNot");
  return (
    <section aria-labelledby="consents-heading">
      <h2 id="consents-heading">{t("people.consents")}</h2>
      {consents.loading && !c && <Loading />}
      <ErrorAlert error={consents.error} />
      {c &&
        (c.current.length ? (
          <div class="overflow-auto">
            <table class="striped">
              <thead>
                <tr>
                  <th scope="col">{t("consent.document")}</th>
                  <th scope="col">{t("consent.version")}</th>
                  <th scope="col">{t("consent.kind")}</th>
                  <th scope="col">{t("people.consentStanding")}</th>
                </tr>
              </thead>
              <tbody>
                {c.current.map((s) => (
                  <tr key={s.document}>
                    <th scope="row">
                      <code>{s.document}</code>
                    </th>
                    <td>{s.version}</td>
                    <td>{s.required ? t("consent.required") : t("consent.optional")}</td>
                    <td>{standing(s)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{t("people.noDocuments")}</p>
        ))}
      {c && c.records.length > 0 && (
        <details>
          <summary>{t("people.consentRecords", { n: c.records.length })}</summary>
          <ul>
            {c.records.map((r, i) => (
              <li key={i}>
                <Time at={r.at} /> · <code>{r.document}</code> {t("consent.versionN", { version: r.version })} · {r.accepted ? t("people.consentGiven") : t("people.consentDeclined")} ·{" "}
                {t(`people.consentVia.${r.via}`)}
              </li>
            ))}
          </ul>
        </details>
      )}
    </section>
  );
}
