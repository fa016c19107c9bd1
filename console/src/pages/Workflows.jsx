// Workflows (GET /workflows/flows, /workflows/failed-runs, /workflows/connections): the flows,
// each linking to its page; the failed runs (the dead-letter list), newest first, which admins
// and operators replay (asked first; the page says how it went); and the connections the flows'
// steps call, read only (their secrets are never shown).
import { useEffect, useRef, useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { useI18n } from "../i18n.jsx";
import { may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { ErrorAlert, Loading, Notice } from "../components/Messages.jsx";
import { EventName, MoreRuns, ReplayFailure, RunList, replayOutcome, useRunPages } from "../components/Runs.jsx";

/** "Enabled" or "Disabled", as a badge. */
export function EnabledBadge({ enabled }) {
  const { t } = useI18n();
  return enabled ? <span class="state state-signing">{t("workflows.enabled")}</span> : <span class="state state-retired">{t("workflows.disabled")}</span>;
}

/** How a connection authenticates, in a few words. */
function ConnectionAuth({ auth }) {
  const { t } = useI18n();
  const kind = t(`workflows.authKinds.${auth.type}`);
  const who = auth.type === "basic" ? auth.username : auth.type === "header" ? auth.name : auth.type === "oauth2" ? auth.client_id : null;
  return (
    <>
      {kind}
      {who && (
        <>
          {" "}
          <code>{who}</code>
        </>
      )}
    </>
  );
}

function Flows({ flows }) {
  const { t } = useI18n();
  if (!flows.length) return <p>{t("workflows.noFlows")}</p>;
  return (
    <div class="overflow-auto">
      <table class="striped flows">
        <thead>
          <tr>
            <th scope="col">{t("workflows.flow")}</th>
            <th scope="col">{t("workflows.trigger")}</th>
            <th scope="col">{t("workflows.status")}</th>
            <th scope="col" class="wide-only">
              {t("workflows.version")}
            </th>
          </tr>
        </thead>
        <tbody>
          {flows.map((flow) => (
            <tr key={flow.id}>
              <th scope="row">
                <Link href={`/workflows/${encodeURIComponent(flow.id)}`}>{flow.name}</Link>
                <br />
                <code class="flow-id">{flow.id}</code>
              </th>
              <td>
                <EventName type={flow.trigger} />
              </td>
              <td>
                <EnabledBadge enabled={flow.enabled} />
              </td>
              <td class="wide-only">{flow.version}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Connections() {
  const { t } = useI18n();
  const connections = useResource("/workflows/connections");
  const list = connections.data ? connections.data.connections : [];
  return (
    <section aria-labelledby="connections-heading">
      <h2 id="connections-heading">{t("workflows.connections")}</h2>
      <p class="muted">{t("workflows.connectionsIntro")}</p>
      {connections.loading && !connections.data && <Loading />}
      <ErrorAlert error={connections.error} />
      {connections.data &&
        (list.length ? (
          <div class="overflow-auto">
            <table class="striped connections">
              <thead>
                <tr>
                  <th scope="col">{t("workflows.name")}</th>
                  <th scope="col">{t("workflows.baseUrl")}</th>
                  <th scope="col">{t("workflows.auth")}</th>
                  <th scope="col">{t("workflows.secret")}</th>
                </tr>
              </thead>
              <tbody>
                {list.map((c) => (
                  <tr key={c.name}>
                    <th scope="row">
                      <code>{c.name}</code>
                    </th>
                    <td>
                      <code class="hook-url">{c.base_url}</code>
                    </td>
                    <td>
                      <ConnectionAuth auth={c.auth} />
                    </td>
                    <td>{c.auth.has_secret ? t("workflows.secretSet") : t("workflows.secretNone")}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{t("workflows.noConnections")}</p>
        ))}
    </section>
  );
}

export function Workflows() {
  const { t } = useI18n();
  const me = useMe();
  const [notice, setNotice] = useState(takeFlash);
  const [failure, setFailure] = useState(null);
  const flows = useResource("/workflows/flows");
  const failed = useRunPages("/workflows/failed-runs");
  const outcome = useRef(null);
  const canChange = may(me, "change");
  const canReplay = may(me, "replayRun");
  const list = flows.data ? flows.data.flows : [];
  const names = Object.fromEntries(list.map((f) => [f.id, f.name]));

  // A replay's outcome takes the focus (its button may be gone: a run that succeeded leaves the list).
  useEffect(() => {
    if ((notice || failure) && outcome.current) outcome.current.focus();
  }, [notice, failure]);

  const replayed = (run) => {
    const { notice: said, failure: failedAgain } = replayOutcome(run, names[run.flow_id]);
    setNotice(said);
    setFailure(failedAgain);
    // Out of the dead-letter list once it succeeded; failed again, it stays, as it is now.
    failed.update((runs) => (run.status === "failed" ? runs.map((r) => (r.run_id === run.run_id ? run : r)) : runs.filter((r) => r.run_id !== run.run_id)));
  };

  const refresh = () => {
    setNotice(null);
    setFailure(null);
    failed.reload();
  };

  return (
    <>
      <h1>{t("workflows.heading")}</h1>
      <p class="muted">{t("workflows.intro")}</p>
      {!canChange && <p class="muted">{t(canReplay ? "workflows.replayOnly" : "workflows.readOnly")}</p>}

      <section aria-labelledby="flows-heading">
        <h2 id="flows-heading">{t("workflows.flows")}</h2>
        {flows.loading && !flows.data && <Loading />}
        <ErrorAlert error={flows.error} />
        {flows.data && <Flows flows={list} />}
      </section>

      <section aria-labelledby="failed-heading">
        <div class="section-head">
          <h2 id="failed-heading">{t("workflows.failed")}</h2>
          <button type="button" class="secondary outline small" onClick={refresh} disabled={failed.loading} aria-busy={failed.loading ? "true" : undefined}>
            {t("workflows.refresh")}
          </button>
        </div>
        <p class="muted">{t(canReplay ? "workflows.failedIntroReplay" : "workflows.failedIntro")}</p>
        <div ref={outcome} tabIndex={-1} class="outcome-box">
          <Notice notice={notice} />
          <ReplayFailure failure={failure} />
        </div>
        {failed.loading && !failed.loaded && <Loading />}
        <ErrorAlert error={failed.error} />
        {failed.loaded && !failed.error && !failed.runs.length && <p>{t("workflows.noFailed")}</p>}
        {failed.runs.length > 0 && <RunList runs={failed.runs} flows={names} canReplay={canReplay} onReplayed={replayed} onStale={failed.reload} />}
        <MoreRuns pages={failed} />
      </section>

      <Connections />
    </>
  );
}
