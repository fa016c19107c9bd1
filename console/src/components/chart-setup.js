// Chart.js with only the parts the console's charts use (tree-shaken): line and bar charts on
// category and linear axes, with tooltips and a legend. Loaded on demand by Chart.jsx.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip, Legend);

export { Chart };
