// The console is static: `npm run build` writes dist/, which the stack serves under /console/ on
// the form's bucket (and the dev server serves at {form}/console/). Relative asset URLs
// (`base: "./"`) keep it working under any path.
import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

export default defineConfig({
  base: "./",
  plugins: [preact({ prerender: { enabled: false } })],
  build: {
    target: "es2022",
    // Modern browsers only: no inline polyfill (the CSP allows no inline script anyway).
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
