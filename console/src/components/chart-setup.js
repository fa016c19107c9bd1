// Chart.js with only the parts the console's charts use (tree-shaken): bar charts (a telephony
// hook's messages per day, stacked) on category and linear axes, with tooltips and a legend.
// Loaded on demand by Chart.jsx; a chart of another type registers its controller here.
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip, Legend);
// The page's own font (Japanese included), a little larger than Chart.js's 12 px.
Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
Chart.defaults.font.size = 13;

export { Chart };
