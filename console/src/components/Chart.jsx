// A chart of the API's metrics (a telephony hook's 30 days). Chart.js is loaded on first use, so
// pages without charts do not carry it. `label` describes the chart for screen readers;
// `children` (a table of the same figures) is its text alternative, behind a disclosure named
// `tableLabel` (or `label`).
import { useEffect, useRef } from "preact/hooks";

let loaded = null;
const loadChart = () => (loaded ||= import("./chart-setup.js").then((m) => m.Chart));

export function Chart({ type = "bar", data, options, label, tableLabel, children }) {
  const canvas = useRef(null);
  useEffect(() => {
    let chart = null;
    let gone = false;
    loadChart().then((ChartJs) => {
      if (gone || !canvas.current) return;
      const still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      chart = new ChartJs(canvas.current, { type, data, options: { responsive: true, maintainAspectRatio: false, animation: still ? false : undefined, ...options } });
    });
    return () => {
      gone = true;
      if (chart) chart.destroy();
    };
  }, [type, data, options]);
  return (
    <figure class="chart">
      <div class="chart-box">
        <canvas ref={canvas} role="img" aria-label={label} />
      </div>
      {children && (
        <details>
          <summary>{tableLabel || label}</summary>
          {children}
        </details>
      )}
    </figure>
  );
}
