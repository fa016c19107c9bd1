// One workflow (GET /workflows/flows/{id}): its settings (trigger, condition, each step), and its
// runs, newest first, a page at a time. Admins enable or disable it (POST .../enable|disable with
// If-Match: the ETag read; a 412 reloads it and says so), each asked first: disabled, no run
// starts until it is enabled again. Admins and operators replay its failed runs.
import { useEffect, useRef, useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api, seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { may, takeFlash, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { useQuestion } from "../components/Dialog.jsx";
import { ErrorAlert, Loading, Notice } from "../components/Messages.jsx";
import { EventName, MoreRuns, ReplayFailure, RunList, replayOutcome, useRunPages } from "../components/Runs.jsx";
import { EnabledBadge } from "./Workflows.jsx";
import { decode } from "./App.jsx";

/** A step in a few words (connector, connection, retries), then its settings as JSON. */
function Step({ step, n }) {
  const { t } = useI18n();
  const retry = step.retry || {};
  return (
    <li class="flow-step">
      <p class="step-line">
        <strong>
          {t("workflow.stepN", { n })} <code>{step.id}</code>
        </strong>
        <br />
        {t("workflow.connector")}: <code>{step.connector}</code>
        {step.connection && (
          <>
            {" · "}
            {t("workflow.connection")}: <code>{step.connection}</code>
          </>
        )}
        {retry.max_attempts !== undefined && (
          <>
            {" · "}
            {t("workflow.retry", { n: retry.max_attempts, s: retry.backoff_seconds ?? 0 })}
          </>
        )}
      </p>
      <pre>
        <code>{JSON.stringify(step, null, 2)}</code>
      </pre>
    </li>
  );
}

function Settings({ flow }) {
  const { t } = useI18n();
  return (
    <dl class="facts">
      <div>
        <dt>{t("workflow.id")}</dt>
        <dd>
          <code>{flow.id}</code>
        </dd>
      </div>
      <div>
        <dt>{t("workflow.trigger")}</dt>
        <dd>
          <EventName type={flow.trigger} />
        </dd>
      </div>
      <div>
        <dt>{t("workflow.condition")}</dt>
        <dd>{flow.condition ? <code>{flow.condition}</code> : <span class="muted">{t("workflow.noCondition")}</span>}</dd>
      </div>
      {flow.inactive_days !== undefined && flow.inactive_days !== null && (
        <div>
          <dt>{t("workflow.inactiveDays")}</dt>
          <dd>{t("workflow.days", { n: flow.inactive_days })}</dd>
        </div>
      )}
      <div>
        <dt>{t("workflow.status")}</dt>
        <dd>
          <EnabledBadge enabled={flow.enabled} />
        </dd>
      </div>
      <div>
        <dt>{t("workflow.version")}</dt>
        <dd>{flow.version}</dd>
      </div>
      <div class="block">
        <dt>{t("workflow.steps")}</dt>
        <dd>
          <ol class="plain flow-steps">
            {flow.steps.map((step, i) => (
              <Step key={step.id} step={step} n={i + 1} />
            ))}
          </ol>
        </dd>
      </div>
    </dl>
  );
}

function Runs({ id, name, canReplay }) {
  const { t } = useI18n();
  const runs = useRunPages(`/workflows/flows/${seg(id)}/runs`);
  const [notice, setNotice] = useState(null);
  const [failure, setFailure] = useState(null);
  const outcome = useRef(null);

  useEffect(() => {
    if ((notice || failure) && outcome.current) outcome.current.focus();
  }, [notice, failure]);

  const replayed = (run) => {
    const said = replayOutcome(run, name);
    setNotice(said.notice);
    setFailure(said.failure);
    runs.update((list) => list.map((r) => (r.run_id === run.run_id ? run : r)));
  };

  const refresh = () => {
    setNotice(null);
    setFailure(null);
    runs.reload();
  };

  return (
    <section aria-labelledby="runs-heading">
      <div class="section-head">
        <h2 id="runs-heading">{t("workflow.runs")}</h2>
        <button type="button" class="secondary outline small" onClick={refresh} disabled={runs.loading} aria-busy={runs.loading ? "true" : undefined}>
          {t("workflows.refresh")}
        </button>
      </div>
      <p class="muted">{t("workflow.runsIntro")}</p>
      <div ref={outcome} tabIndex={-1} class="outcome-box">
        <Notice notice={notice} />
        <ReplayFailure failure={failure} />
      </div>
      {runs.loading && !runs.loaded && <Loading />}
      <ErrorAlert error={runs.error} />
      {runs.loaded && !runs.error && !runs.runs.length && <p>{t("workflow.noRuns")}</p>}
      {runs.runs.length > 0 && <RunList runs={runs.runs} canReplay={canReplay} onReplayed={replayed} onStale={runs.reload} />}
      <MoreRuns pages={runs} />
    </section>
  );
}

export function WorkflowPage({ params }) {
  const { t } = useI18n();
  const me = useMe();
  const id = decode(params.id);
  const flow = useResource(`/workflows/flows/${seg(id)}`);
  const [notice, setNotice] = useState(takeFlash);
  const canChange = may(me, "change");
  const canReplay = may(me, "replayRun");
  const data = flow.data;

  const values = data ? { name: data.name, id: data.id, trigger: data.trigger } : {};
  /** Enabling or disabling: POST .../enable|disable over the version read. */
  const turn = (action) => ({
    call: () => api(`/workflows/flows/${seg(id)}/${action}`, { method: "POST", ifMatch: flow.etag }),
    done: ({ data: next, etag }) => {
      flow.set(next, etag);
      setNotice({ key: next.enabled ? "workflow.enabledDone" : "workflow.disabledDone", values: { name: next.name, version: next.version } });
    },
  });
  const [open, question] = useQuestion({
    questions: {
      enable: { title: "workflow.enableTitle", body: "workflow.enableBody", confirm: "workflow.enableConfirm", ...turn("enable") },
      disable: { title: "workflow.disableTitle", body: "workflow.disableBody", confirm: "workflow.disableConfirm", danger: true, ...turn("disable") },
    },
    values: () => values,
    // Someone changed the flow meanwhile: it is read again, and the question follows it.
    fail: async (e, show) => {
      if (e.code === "precondition_failed") await flow.reload();
      show(e);
    },
  });
  // Asking hides the last notice.
  const ask = (action) => (setNotice(null), open(action));

  return (
    <>
      <p class="crumbs">
        <Link href="/workflows">{t("workflow.back")}</Link>
      </p>
      <h1>
        {data ? data.name : t("workflow.page")} {data && <EnabledBadge enabled={data.enabled} />}
      </h1>
      <Notice notice={notice} />
      {flow.loading && !data && <Loading />}
      {!data && <ErrorAlert error={flow.error} />}
      {data && (
        <>
          <p class={data.enabled ? "active-line" : "warning"}>{data.enabled ? t("workflow.isEnabled", values) : t("workflow.isDisabled")}</p>
          <div class="toolbar">
            {canChange &&
              (data.enabled ? (
                <button type="button" class="danger outline" onClick={() => ask("disable")}>
                  {t("workflow.disable")}
                </button>
              ) : (
                <button type="button" class="secondary" onClick={() => ask("enable")}>
                  {t("workflow.enable")}
                </button>
              ))}
            <Link href={`/audit/target/${encodeURIComponent(`flow:${data.id}`)}`}>{t("workflow.audit")}</Link>
          </div>
          {!canChange && <p class="muted">{t(canReplay ? "workflows.replayOnly" : "workflows.readOnly")}</p>}

          <section aria-labelledby="settings-heading">
            <h2 id="settings-heading">{t("workflow.settings")}</h2>
            <Settings flow={data} />
          </section>

          <Runs id={id} name={data.name} canReplay={canReplay} />

          {canChange && question}
        </>
      )}
    </>
  );
}
