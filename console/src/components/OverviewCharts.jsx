// The overview's last 30 days (GET /overview?days=30, counted by the workflow runner from the
// event stream): sign-ins (signed in and failed stacked as the day's attempts, high-risk beside
// them), SCIM changes, and telephony hook messages (delivered and failed, stacked). Each is its
// totals as text and a bar chart whose text alternative is a table of the same 30 days, or, with
// nothing in 30 days, the text alone (as a hook's figures, components/HookMetrics.jsx); a day
// the API leaves out is a zero. A failed call is said here only: the rest of the overview does
// not depend on it.
import { useMemo } from "preact/hooks";
import { useI18n } from "../i18n.jsx";
import { useResource } from "../resource.js";
import { Chart } from "./Chart.jsx";
import { ErrorAlert, Loading } from "./Messages.jsx";
import { DAYS, barOptions, lastDays, useDayLabel } from "./days.js";

const COLOURS = { signIns: "#2f6ae6", failed: "#e0442f", highRisk: "#b35c00", scim: "#9050d0", delivered: "#17a86b" };
const FIELDS = ["sign_ins", "failed_sign_ins", "high_risk", "scim_changes", "hook_deliveries", "hook_failures"];
const QUERY = { days: DAYS };

const count = (v) => (Number.isFinite(v) && v > 0 ? v : 0);
const sum = (days, key) => days.reduce((n, d) => n + d[key], 0);

/**
 * One series: its heading, totals, help, and a chart of `datasets` (`{ key, label, colour,
 * stack }`) with a table of `columns` (`{ key, label }`: the datasets' figures, then any total).
 */
function Series({ id, heading, total, summary, none, help, chartLabel, days, datasets, columns, stacked, legend = true }) {
  const { t, lang, number } = useI18n();
  const label = useDayLabel();
  const data = useMemo(
    () => ({
      labels: days.map((d) => label(d.date)),
      datasets: datasets.map((s) => ({ label: s.label, data: days.map((d) => d[s.key]), backgroundColor: s.colour, stack: s.stack })),
    }),
    // `label` and the datasets' labels follow `lang`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [days, lang],
  );
  const options = useMemo(() => barOptions({ stacked, legend }), [lang, stacked, legend]);
  return (
    <section aria-labelledby={`${id}-heading`} class="series">
      <h3 id={`${id}-heading`}>{heading}</h3>
      <p class="metrics-summary">{total ? summary : none}</p>
      {total > 0 && (
        <Chart type="bar" data={data} options={options} label={chartLabel} tableLabel={t("overview.daily.table")}>
          <div class="overflow-auto">
            <table class="striped metrics-table">
              <thead>
                <tr>
                  <th scope="col">{t("overview.daily.date")}</th>
                  {columns.map((c) => (
                    <th scope="col" key={c.key}>
                      {c.label}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr key={d.date}>
                    <th scope="row">
                      <time dateTime={d.date}>{label(d.date)}</time>
                    </th>
                    {columns.map((c) => (
                      <td key={c.key}>{number(d[c.key])}</td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Chart>
      )}
      <p class="muted small">{help}</p>
    </section>
  );
}

export function OverviewCharts() {
  const { t, number } = useI18n();
  const overview = useResource("/overview", QUERY);
  const o = overview.data;
  const days = useMemo(
    () =>
      o
        ? lastDays(o.days, (d) => {
            const c = Object.fromEntries(FIELDS.map((f) => [f, count(d[f])]));
            const failures = Math.min(c.hook_failures, c.hook_deliveries);
            return { ...c, hook_delivered: c.hook_deliveries - failures, hook_failures: failures };
          })
        : [],
    [o],
  );
  const totals = useMemo(() => Object.fromEntries([...FIELDS, "hook_delivered"].map((f) => [f, sum(days, f)])), [days]);
  const n = (key) => number(totals[key]);
  const signIns = { signIns: n("sign_ins"), failed: n("failed_sign_ins"), highRisk: n("high_risk") };
  const hooks = { total: n("hook_deliveries"), successful: n("hook_delivered"), failed: n("hook_failures") };

  return (
    <section aria-labelledby="daily-heading">
      <h2 id="daily-heading">{t("overview.daily.heading")}</h2>
      <p class="muted small">{t("overview.daily.note")}</p>
      {overview.loading && !o && <Loading />}
      <ErrorAlert error={overview.error} />
      {o && (
        <div class="daily">
          <Series
            id="sign-ins"
            heading={t("overview.signIns.heading")}
            total={totals.sign_ins + totals.failed_sign_ins + totals.high_risk}
            none={t("overview.signIns.none")}
            summary={t("overview.signIns.summary", signIns)}
            help={t("overview.signIns.help")}
            chartLabel={t("overview.signIns.chart", signIns)}
            days={days}
            stacked
            datasets={[
              { key: "sign_ins", label: t("overview.signIns.signIns"), colour: COLOURS.signIns, stack: "attempts" },
              { key: "failed_sign_ins", label: t("overview.signIns.failed"), colour: COLOURS.failed, stack: "attempts" },
              { key: "high_risk", label: t("overview.signIns.highRisk"), colour: COLOURS.highRisk, stack: "risk" },
            ]}
            columns={[
              { key: "sign_ins", label: t("overview.signIns.signIns") },
              { key: "failed_sign_ins", label: t("overview.signIns.failed") },
              { key: "high_risk", label: t("overview.signIns.highRisk") },
            ]}
          />
          <Series
            id="scim"
            heading={t("overview.scim.heading")}
            total={totals.scim_changes}
            none={t("overview.scim.none")}
            summary={t("overview.scim.summary", { n: n("scim_changes") })}
            help={t("overview.scim.help")}
            chartLabel={t("overview.scim.chart", { n: n("scim_changes") })}
            days={days}
            legend={false}
            datasets={[{ key: "scim_changes", label: t("overview.scim.changes"), colour: COLOURS.scim }]}
            columns={[{ key: "scim_changes", label: t("overview.scim.changes") }]}
          />
          <Series
            id="hook-messages"
            heading={t("overview.hooks.heading")}
            total={totals.hook_deliveries}
            none={t("overview.hooks.none")}
            summary={t("overview.hooks.summary", hooks)}
            help={t("overview.hooks.help")}
            chartLabel={t("overview.hooks.chart", hooks)}
            days={days}
            stacked
            datasets={[
              { key: "hook_delivered", label: t("hookMetrics.successful"), colour: COLOURS.delivered, stack: "messages" },
              { key: "hook_failures", label: t("hookMetrics.failed"), colour: COLOURS.failed, stack: "messages" },
            ]}
            columns={[
              { key: "hook_delivered", label: t("hookMetrics.successful") },
              { key: "hook_failures", label: t("hookMetrics.failed") },
              { key: "hook_deliveries", label: t("hookMetrics.total") },
            ]}
          />
        </div>
      )}
    </section>
  );
}
