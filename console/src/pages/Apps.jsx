// Every app, in id order; admins may add one.
import { useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { useI18n } from "../i18n.jsx";
import { may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { ErrorAlert, Loading, Notice } from "../components/Messages.jsx";
import { AppIdCell, listsNoOne } from "./App.jsx";

export function Apps() {
  const { t } = useI18n();
  const me = useMe();
  const [notice] = useState(takeFlash);
  const apps = useResource("/apps");
  const canChange = may(me, "change");
  return (
    <>
      <div class="page-head">
        <h1>{t("apps.heading")}</h1>
        {canChange && (
          <Link href="/apps/new" role="button">
            {t("apps.new")}
          </Link>
        )}
      </div>
      <Notice notice={notice} />
      {!canChange && <p class="muted">{t("apps.readOnly")}</p>}
      {apps.loading && !apps.data && <Loading />}
      <ErrorAlert error={apps.error} />
      {apps.data &&
        (apps.data.apps.length ? (
          <div class="overflow-auto">
            <table class="striped apps">
              <thead>
                <tr>
                  <th scope="col">{t("apps.id")}</th>
                  <th scope="col">{t("apps.name")}</th>
                  <th scope="col">{t("apps.kind")}</th>
                  <th scope="col" class="wide-only">
                    {t("apps.risk")}
                  </th>
                  <th scope="col" class="wide-only">
                    {t("app.access")}
                  </th>
                  <th scope="col" class="wide-only">
                    {t("apps.secret")}
                  </th>
                </tr>
              </thead>
              <tbody>
                {apps.data.apps.map((app) => (
                  <tr key={app.id}>
                    <AppIdCell id={app.id} />
                    <td>{app.name}</td>
                    <td>{t(`apps.kinds.${app.target && app.target.kind}`)}</td>
                    <td class="wide-only">{t(`apps.risks.${app.risk_policy}`)}</td>
                    <td class="wide-only">{listsNoOne(app.access) ? t("app.accessEveryone") : t("apps.accessListed")}</td>
                    <td class="wide-only">{app.has_secret ? t("apps.hasSecret") : t("apps.noSecret")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{t("apps.empty")}</p>
        ))}
    </>
  );
}
