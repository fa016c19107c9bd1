// A chart for the overview's metrics (to come with the API's metrics route). Chart.js is loaded
// on first use, so pages without charts do not carry it. `label` describes the chart for screen
// readers; `children` (a table of the same figures) is its text alternative.
import { useEffect, useRef } from "preact/hooks";

let loaded = null;
const loadChart = () => (loaded ||= import("./chart-setup.js").then((m) => m.Chart));

export function Chart({ type = "line", data, options, label, children }) {
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
          <summary>{label}</summary>
          {children}
        </details>
      )}
    </figure>
  );
}
