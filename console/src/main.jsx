import "@picocss/pico/css/pico.min.css";
import "./style.css";
import { render } from "preact";
import { takeTokenFromFragment } from "./auth.js";
import { App } from "./app.jsx";

// Before the router reads the hash: a token just delivered (#jwt=...) is taken out of it.
takeTokenFromFragment();
render(<App />, document.getElementById("root"));
