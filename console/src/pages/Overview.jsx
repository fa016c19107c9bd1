// The overview: who is signed in, how many apps and keys, the last 30 days as charts (sign-ins,
// SCIM changes, hook messages: components/OverviewCharts.jsx), the latest changes. Each part
// reads its own resource, so one failing leaves the others in place.
import { Link } from "wouter-preact";
import { useI18n } from "../i18n.jsx";
import { useMe } from "../session.js";
import { useResource } from "../resource.js";
import { ErrorAlert, Loading } from "../components/Messages.jsx";
import { AuditTable } from "../components/AuditList.jsx";
import { OverviewCharts } from "../components/OverviewCharts.jsx";

const published = (key, now) => key.publish_from <= now && (key.retire_after === null || key.retire_after === undefined || now < key.retire_after);

export function Overview() {
  const { t, number } = useI18n();
  const me = useMe();
  const apps = useResource("/apps");
  const keys = useResource("/keys");
  const audit = useResource("/audit", { limit: 10 });
  const now = Date.now() / 1000;

  return (
    <>
      <h1>{t("overview.heading")}</h1>
      <section aria-labelledby="you-heading">
        <h2 id="you-heading">{t("overview.you")}</h2>
        <dl class="facts">
          <div>
            <dt>{t("overview.email")}</dt>
            <dd>{me.email || "—"}</dd>
          </div>
          <div>
            <dt>{t("overview.username")}</dt>
            <dd>{me.username}</dd>
          </div>
          <div>
            <dt>{t("overview.role")}</dt>
            <dd>
              <strong>{t(`roles.${me.role}`)}</strong> <span class="muted">({t(`roleHelp.${me.role}`)})</span>
            </dd>
          </div>
        </dl>
      </section>

      <section aria-labelledby="counts-heading">
        <h2 id="counts-heading">{t("overview.counts")}</h2>
        <div class="cards">
          <article class="count">
            <p class="label">
              <Link href="/apps">{t("overview.apps")}</Link>
            </p>
            {apps.error ? <ErrorAlert error={apps.error} /> : <p class="figure">{apps.data ? number(apps.data.apps.length) : "…"}</p>}
          </article>
          <article class="count">
            <p class="label">
              <Link href="/keys">{t("overview.keys")}</Link>
            </p>
            {keys.error ? (
              <ErrorAlert error={keys.error} />
            ) : (
              <>
                <p class="figure">{keys.data ? number(keys.data.keys.length) : "…"}</p>
                {keys.data && <p class="muted small">{t("overview.keysPublished", { n: number(keys.data.keys.filter((k) => published(k, now)).length) })}</p>}
              </>
            )}
          </article>
        </div>
      </section>

      <OverviewCharts />

      <section aria-labelledby="latest-heading">
        <h2 id="latest-heading">{t("overview.latest")}</h2>
        {audit.loading && !audit.data && <Loading />}
        <ErrorAlert error={audit.error} />
        {audit.data && (audit.data.records.length ? <AuditTable records={audit.data.records} /> : <p>{t("audit.none")}</p>)}
        <p>
          <Link href="/audit">{t("overview.all")}</Link>
        </p>
      </section>
    </>
  );
}
