// What the 30-day charts share (a telephony hook's messages, the overview's series): the days
// themselves (UTC dates, zero where the API has nothing), a day's short name in the language
// shown, and Chart.js options drawn in the page's colours.
import { useMemo } from "preact/hooks";
import { useI18n } from "../i18n.jsx";

export const DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export const isoDate = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * The 30 days up to today (UTC), or up to the API's latest day if its clock is ahead, oldest
 * first: `fill(entry)` of the API's entry for each date (`{}` for a date it left out).
 */
export function lastDays(perDay, fill) {
  const byDate = new Map((perDay || []).map((d) => [d.date, d]));
  const latest = [...byDate.keys()].sort().pop();
  const today = isoDate(Date.now());
  const end = Date.parse(`${latest && latest > today ? latest : today}T00:00:00Z`);
  return Array.from({ length: DAYS }, (_, i) => {
    const date = isoDate(end - (DAYS - 1 - i) * DAY_MS);
    return { date, ...fill(byDate.get(date) || {}) };
  });
}

/** A day (`YYYY-MM-DD`) as "5 Nov" or "11月5日". */
export function useDayLabel() {
  const { lang } = useI18n();
  return useMemo(() => {
    const format = new Intl.DateTimeFormat(lang === "ja" ? "ja-JP" : "en-GB", { month: "short", day: "numeric", timeZone: "UTC" });
    return (date) => format.format(new Date(`${date}T00:00:00Z`));
  }, [lang]);
}

/** A CSS custom property's value (Pico's colours follow the colour scheme). */
const cssVar = (name, fallback) => (typeof window !== "undefined" && getComputedStyle(document.documentElement).getPropertyValue(name).trim()) || fallback;

/** Chart.js options for bars per day: muted axis text, whole numbers, a legend unless `legend` is false. */
export function barOptions({ stacked = false, legend = true } = {}) {
  const text = cssVar("--pico-muted-color", "#646b79");
  const grid = cssVar("--pico-muted-border-color", "#e7eaf0");
  return {
    scales: {
      x: { stacked, grid: { display: false }, ticks: { color: text, maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } },
      y: { stacked, beginAtZero: true, grid: { color: grid }, ticks: { color: text, precision: 0 } },
    },
    plugins: { legend: { display: legend, labels: { color: text } } },
  };
}
