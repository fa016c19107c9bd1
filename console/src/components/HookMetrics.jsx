// A hook's last 30 days (GET /hooks/{name}/metrics): the totals and the average time of a
// delivered message as text, and the messages per day as a stacked bar chart (delivered,
// failed), whose text alternative is a table of the same 30 days; without any message, the text
// alone. The API lists only days with messages (UTC dates); the others are shown as zero.
import { useMemo } from "preact/hooks";
import { seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { useResource } from "../resource.js";
import { Chart } from "./Chart.jsx";
import { ErrorAlert, Loading } from "./Messages.jsx";
import { barOptions, lastDays, useDayLabel } from "./days.js";

const COLOURS = { successful: "#17a86b", failed: "#e0442f" };

/** The 30 days up to today (UTC), or up to the API's latest day if its clock is ahead. */
export const thirtyDays = (perDay) =>
  lastDays(perDay, (d) => ({ successful: d.successful || 0, failed: d.failed || 0, total: d.total || (d.successful || 0) + (d.failed || 0) }));

export function HookMetrics({ name }) {
  const { t, lang, number } = useI18n();
  const metrics = useResource(`/hooks/${seg(name)}/metrics`);
  const m = metrics.data;
  const days = useMemo(() => (m ? thirtyDays(m.per_day) : []), [m]);
  const label = useDayLabel();

  const data = useMemo(
    () => ({
      labels: days.map((d) => label(d.date)),
      datasets: [
        { label: t("hookMetrics.successful"), data: days.map((d) => d.successful), backgroundColor: COLOURS.successful, stack: "messages" },
        { label: t("hookMetrics.failed"), data: days.map((d) => d.failed), backgroundColor: COLOURS.failed, stack: "messages" },
      ],
    }),
    // `label` and `t` follow `lang`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [days, lang],
  );
  const options = useMemo(() => barOptions({ stacked: true }), [lang]);

  return (
    <section aria-labelledby="metrics-heading">
      <h2 id="metrics-heading">{t("hookMetrics.heading")}</h2>
      {metrics.loading && !m && <Loading />}
      <ErrorAlert error={metrics.error} />
      {m && (
        <>
          <p class="metrics-summary">
            {m.total
              ? t("hookMetrics.summary", { total: number(m.total), successful: number(m.successful), failed: number(m.failed) })
              : t("hookMetrics.none")}{" "}
            {m.average_success_ms !== null && m.average_success_ms !== undefined
              ? t("hookMetrics.average", { ms: number(m.average_success_ms) })
              : m.total
                ? t("hookMetrics.noAverage")
                : ""}
          </p>
          {m.total > 0 && (
            <Chart
              type="bar"
              data={data}
              options={options}
              label={t("hookMetrics.chart", { successful: number(m.successful), failed: number(m.failed) })}
              tableLabel={t("hookMetrics.table")}
            >
              <div class="overflow-auto">
                <table class="striped metrics-table">
                  <thead>
                    <tr>
                      <th scope="col">{t("hookMetrics.date")}</th>
                      <th scope="col">{t("hookMetrics.successful")}</th>
                      <th scope="col">{t("hookMetrics.failed")}</th>
                      <th scope="col">{t("hookMetrics.total")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {days.map((d) => (
                      <tr key={d.date}>
                        <th scope="row">
                          <time dateTime={d.date}>{label(d.date)}</time>
                        </th>
                        <td>{number(d.successful)}</td>
                        <td>{number(d.failed)}</td>
                        <td>{number(d.total)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </Chart>
          )}
          <p class="muted small">{t("hookMetrics.note")}</p>
        </>
      )}
    </section>
  );
}
