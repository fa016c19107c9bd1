// Workflow runs (GET /workflows/flows/{id}/runs, GET /workflows/failed-runs): a page at a time
// with the API's cursor, each run as a card (status, when, the event, each step's outcome), and
// for admins and operators a failed run's replay (POST /workflows/runs/{id}/replay), asked first:
// the failed steps are called once more, with the flow as it is now. The answer is the run as it
// ended; the list shows it in place and the page says how it went.
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { Link } from "wouter-preact";
import { api, seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { useQuestion } from "./Dialog.jsx";
import { ErrorAlert, Time } from "./Messages.jsx";

/** An identity event type: its name where the console knows it, and the type itself. */
export function EventName({ type }) {
  const { t } = useI18n();
  const key = `workflows.events.${type}`;
  const name = t(key);
  return (
    <span class="type">
      {name !== key ? `${name} ` : ""}
      <code>{type}</code>
    </span>
  );
}

const STATUS_CLASS = { succeeded: "state-signing", failed: "state-failed", running: "state-next" };

/** A run's status, as a badge. */
export function RunStatus({ status }) {
  const { t } = useI18n();
  return <span class={`state ${STATUS_CLASS[status] || "state-retired"}`}>{t(`runs.statuses.${status}`)}</span>;
}

/** The step a failed run stopped at. */
export const failedStep = (run) => run.steps.find((s) => !s.succeeded) || null;

/**
 * A page of runs at a time from `path`, newest first; `more()` reads the next page, `update(fn)`
 * changes the runs shown (a replayed run in place).
 */
export function useRunPages(path, limit = 20) {
  const [state, setState] = useState({ runs: [], cursor: null, loading: true, error: null, loaded: false });
  // Answers come back in any order: only the latest question's answer is shown.
  const asked = useRef(0);

  const load = useCallback(
    async (after) => {
      const mine = ++asked.current;
      setState((s) => ({ ...s, loading: true, error: null }));
      try {
        const { data } = await api(path, { query: { limit, cursor: after || undefined } });
        if (mine !== asked.current) return;
        setState((s) => ({ runs: after ? [...s.runs, ...data.runs] : data.runs, cursor: data.next_cursor || null, loading: false, error: null, loaded: true }));
      } catch (error) {
        if (mine === asked.current) setState((s) => ({ ...s, loading: false, error, loaded: true }));
      }
    },
    [path, limit],
  );

  useEffect(() => {
    load();
  }, [load]);

  return {
    ...state,
    reload: () => load(),
    more: () => load(state.cursor),
    update: (fn) => setState((s) => ({ ...s, runs: fn(s.runs) })),
  };
}

/** Each step's outcome: succeeded or failed, its attempts, its error and output. */
function StepOutcomes({ steps }) {
  const { t } = useI18n();
  if (!steps.length) return <p class="muted small">{t("runs.noSteps")}</p>;
  return (
    <ul class="plain step-outcomes">
      {steps.map((s) => (
        <li key={s.id}>
          <code>{s.id}</code>{" "}
          <span class={s.succeeded ? "outcome-ok" : "outcome-failed"}>{t(s.succeeded ? "runs.stepSucceeded" : "runs.stepFailed", { n: s.attempts })}</span>
          {s.error && (
            <p class="run-error">
              <span class="visually-hidden">{t("runs.error")}: </span>
              <code>{s.error}</code>
            </p>
          )}
          {s.output !== undefined && s.output !== null && (
            <details class="run-output">
              <summary>{t("runs.output")}</summary>
              <pre>
                <code>{JSON.stringify(s.output, null, 2)}</code>
              </pre>
            </details>
          )}
        </li>
      ))}
    </ul>
  );
}

/** One run as a card; `flowName` (on the failed runs' list) links to its flow. */
function RunCard({ run, flowName, onReplay }) {
  const { t } = useI18n();
  const failed = run.status === "failed" ? failedStep(run) : null;
  return (
    <article aria-label={t("runs.label", { id: run.run_id })} data-run={run.run_id}>
      <dl class="meta">
        {flowName !== undefined && (
          <div>
            <dt>{t("runs.flow")}</dt>
            <dd>
              <Link href={`/workflows/${encodeURIComponent(run.flow_id)}`}>{flowName || run.flow_id}</Link>
            </dd>
          </div>
        )}
        <div>
          <dt>{t("runs.status")}</dt>
          <dd>
            <RunStatus status={run.status} />
          </dd>
        </div>
        <div>
          <dt>{t("runs.event")}</dt>
          <dd>
            <EventName type={run.event_type} />
          </dd>
        </div>
        <div>
          <dt>{t("runs.started")}</dt>
          <dd>
            <Time at={run.started_at} />
          </dd>
        </div>
        {run.finished_at !== undefined && run.finished_at !== null && (
          <div>
            <dt>{t(run.status === "failed" ? "runs.failedAt" : "runs.finished")}</dt>
            <dd>
              <Time at={run.finished_at} />
            </dd>
          </div>
        )}
        {failed && (
          <div>
            <dt>{t("runs.failedStep")}</dt>
            <dd>
              <code>{failed.id}</code>
            </dd>
          </div>
        )}
        <div>
          <dt>{t("runs.flowVersion")}</dt>
          <dd>{run.flow_version}</dd>
        </div>
        <div>
          <dt>{t("runs.runId")}</dt>
          <dd>
            <code class="run-id">{run.run_id}</code>
          </dd>
        </div>
        <div>
          <dt>{t("runs.eventId")}</dt>
          <dd>
            <code class="run-id">{run.event_id}</code>
          </dd>
        </div>
      </dl>
      <p class="steps-label">{t("runs.steps")}</p>
      <StepOutcomes steps={run.steps} />
      {onReplay && run.status === "failed" && (
        <div class="toolbar">
          <button type="button" class="secondary" onClick={() => onReplay(run)}>
            {t("runs.replay")}
          </button>
        </div>
      )}
    </article>
  );
}

/**
 * A refused replay: a 409 (not failed any more, or being replayed) said in the language shown;
 * a 503 or 504 from the gateway (a replay longer than its 30 s goes on in the function).
 */
function ReplayError({ error }) {
  const { t } = useI18n();
  if (error && (error.status === 503 || error.status === 504)) {
    return (
      <div class="alert" role="alert">
        <p>{t("runs.replayStillRunning")}</p>
      </div>
    );
  }
  if (!error || error.code !== "conflict") return <ErrorAlert error={error} />;
  return (
    <div class="alert" role="alert">
      <p>{t("runs.replayConflict")}</p>
      {error.apiMessage && <p class="detail">{t("errorDetail", { message: error.apiMessage })}</p>}
    </div>
  );
}

/** How a replay ended, for the page to say: `{ notice }` when it succeeded, `{ failure }` when not. */
export function replayOutcome(run, flowName) {
  const flow = flowName || run.flow_id;
  if (run.status === "succeeded") return { notice: { key: "runs.replaySucceeded", values: { flow } }, failure: null };
  const step = failedStep(run);
  return { notice: null, failure: { key: "runs.replayFailed", values: { flow, step: step ? step.id : "—", error: (step && step.error) || "—" } } };
}

/** A replay that failed again: an alert with the step and its error. */
export function ReplayFailure({ failure }) {
  const { t } = useI18n();
  if (!failure) return null;
  return (
    <div class="alert" role="alert">
      <p class="run-error">{t(failure.key, failure.values)}</p>
    </div>
  );
}

/**
 * The runs, newest first, with a Replay button on failed ones when `canReplay`. `flows` (id ->
 * name) shows each run's flow (the failed runs' list). `onReplayed(run)`: the run as the replay
 * left it; `onStale()`: the API said the run could not be replayed (the list is read again).
 */
export function RunList({ runs, flows, canReplay, onReplayed, onStale }) {
  const [ask, question] = useQuestion({
    questions: {
      replay: {
        title: "runs.replayTitle",
        body: "runs.replayBody",
        confirm: "runs.replayConfirm",
        call: (run) => api(`/workflows/runs/${seg(run.run_id)}/replay`, { method: "POST" }),
        done: ({ data }) => onReplayed(data),
      },
    },
    values: (run) => ({ flow: (flows && flows[run.flow_id]) || run.flow_id, step: (failedStep(run) || {}).id || "—" }),
    // Not failed any more, or being replayed by someone else: the list is read again.
    fail: (e, show) => {
      if (e.code === "conflict" && onStale) onStale();
      show(e);
    },
    Alert: ReplayError,
  });

  const name = (run) => (flows ? flows[run.flow_id] || "" : undefined);
  return (
    <>
      <ol class="runs">
        {runs.map((run) => (
          <li key={run.run_id} class="run">
            <RunCard run={run} flowName={name(run)} onReplay={canReplay ? (r) => ask("replay", r) : null} />
          </li>
        ))}
      </ol>
      {canReplay && question}
    </>
  );
}

/** "More" while the API has older runs; the end said once it has none. */
export function MoreRuns({ pages }) {
  const { t } = useI18n();
  if (!pages.loaded || pages.error) return null;
  if (pages.cursor) {
    return (
      <button type="button" class="secondary" onClick={pages.more} disabled={pages.loading} aria-busy={pages.loading ? "true" : undefined}>
        {t("runs.more")}
      </button>
    );
  }
  return pages.runs.length > 0 ? <p class="muted small">{t("runs.end")}</p> : null;
}
