// What both browser test files start with: the whole local stack (scripts/local_stack.py, on
// ports of its own, from the binaries already built) and headless Debian Chromium.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, existsSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

/** The repository's root. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Starts the local stack (with `env` added to this process's environment) and Chromium. Resolves
 * to `{ info, browser, stop }`: the stack's info file (its URLs, users and ids), the browser, and
 * `stop()`, which closes the browser and ends the stack. If either does not come up, what did is
 * stopped before the error is thrown.
 */
export async function startStack({ env = {} } = {}) {
  const work = mkdtempSync(join(tmpdir(), "bridge-browser-"));
  const infoFile = join(work, "info.json");
  const stack = spawn("python3", ["scripts/local_stack.py", "--auto-ports", "--no-build", "--info", infoFile], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, ...env },
  });
  let browser;
  const stop = async () => {
    if (browser) await browser.close();
    stack.kill("SIGTERM");
    rmSync(work, { recursive: true, force: true });
  };
  try {
    const info = await waitFor(stack, infoFile, 120_000);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync"],
      // Playwright starts every launch with a fresh temporary profile (its own --user-data-dir).
    });
    return { info, browser, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** The info file the stack writes once it is up (within `ms`). */
async function waitFor(stack, file, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
    if (stack.exitCode !== null) throw new Error(`the local stack exited with ${stack.exitCode}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error("the local stack did not come up in time");
}

/** A full-page screenshot named `name`, when SCREENSHOT_DIR is set. */
export async function shot(p, name) {
  if (process.env.SCREENSHOT_DIR) await p.screenshot({ path: join(process.env.SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/** The form's step `id` (`password`, `code`, `consent`, ...). */
export const step = (p, id) => p.locator(`#step-${id}`);

/**
 * The form's first step: types `email` and continues (from the ways-to-sign-in step, through
 * "Not you?" first). What comes next is the caller's: the ways to sign in, or a company's provider.
 */
export async function identify(p, email) {
  if (await step(p, "password").isVisible()) await p.locator("#not-you").click();
  await step(p, "identify").locator("#email").fill(email);
  await step(p, "identify").locator("button[type=submit]").click();
}

const axePath = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/** Records on `p.cspViolations` the Content Security Policy violations the page meets. */
export function watchCsp(p) {
  p.cspViolations = [];
  p.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) p.cspViolations.push(m.text());
  });
  return p;
}

/**
 * axe-core on the console page `p` as it is: no violation of impact serious or critical, and no
 * CSP violation (`watchCsp`). The console's CSP allows scripts from its own origin only, so
 * axe.min.js is served from there (a route of this page, under `form`/console/) rather than
 * inlined by `addScriptTag({ path })`, which the CSP would block.
 */
export async function consoleA11y(p, name, form) {
  if (!p.axeRouted) {
    await p.route(`${form}/console/__axe.min.js`, (route) => route.fulfill({ path: axePath, contentType: "text/javascript" }));
    p.axeRouted = true;
  }
  if (!(await p.evaluate(() => typeof window.axe === "object"))) await p.addScriptTag({ url: `${form}/console/__axe.min.js` });
  const results = await p.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const describe = (v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join("\n    ")}`;
  for (const v of results.violations.filter((x) => !bad.includes(x))) process.stderr.write(`axe (${name}, not failing): ${describe(v)}\n`);
  assert.deepEqual(bad.map(describe), [], `axe on ${name}`);
  assert.deepEqual(p.cspViolations, [], `CSP violations on ${name}`);
}

/** The form's words in each language, as the tests look for them. */
export const FORM = {
  en: { email: "Email", password: "Password", signIn: "Sign in", code: "Code", verify: "Verify", refused: "Incorrect email or password.",
        acceptTerms: /I accept the Terms of Service/, accept: "Accept and continue" },
  ja: { email: "メールアドレス", password: "パスワード", signIn: "サインイン", code: "確認コード", verify: "確認", refused: "メールアドレスまたはパスワードが正しくありません。",
        acceptTerms: /利用規約に同意します/, accept: "同意して続ける" },
};

/** Opens the console of the stack `info` at `route`, signs `user` in through the bridge's form
 * (with an SMS code if `sms`; accepting the required terms if `acceptTerms`), and waits for the
 * console to take the token. With `wrongFirst` (an email), the form is first sent that email
 * with a wrong password, and refuses it (a failed sign-in is recorded). */
export async function signInToConsole(p, info, user, { lang = "en", sms = true, route = "", wrongFirst, acceptTerms = false } = {}) {
  const words = FORM[lang];
  await p.goto(`${info.form}/console/${route}`);
  await p.getByRole("button", { name: words.signIn, exact: true }).click();
  await p.waitForURL((url) => url.href.startsWith(info.form) && !url.pathname.startsWith("/console/"));
  if (wrongFirst) {
    await identify(p, wrongFirst);
    await step(p, "password").getByLabel(words.password, { exact: true }).fill(`Not-the-Passw0rd-${Date.now().toString(36)}`);
    await step(p, "password").getByRole("button", { name: words.signIn }).click();
    await p.getByRole("alert").filter({ hasText: words.refused }).waitFor();
  }
  await identify(p, user.email);
  await step(p, "password").getByLabel(words.password, { exact: true }).fill(user.password);
  await step(p, "password").getByRole("button", { name: words.signIn }).click();
  if (sms) {
    await step(p, "code").getByLabel(words.code).fill("123456");
    await step(p, "code").getByRole("button", { name: words.verify }).click();
  }
  if (acceptTerms) {
    await step(p, "consent").getByRole("checkbox", { name: words.acceptTerms }).check();
    await step(p, "consent").getByRole("button", { name: words.accept }).click();
  }
  // The console app's URL is /console/ or /console/index.html (as the bucket serves it).
  await p.waitForURL((url) => url.pathname.startsWith("/console/") && !url.hash.startsWith("#jwt="));
  assert.ok(!p.url().includes("jwt="), "the token does not stay in the address bar");
}

/** The admin API of the stack `info` called from the console's own page `p` (its origin), with
 * its token: `{ status, etag, body }`. */
export function callConsoleApi(p, info, path, { method = "GET", body, ifMatch } = {}) {
  return p.evaluate(
    async ({ url, method, body, ifMatch }) => {
      const headers = { Authorization: `Bearer ${sessionStorage.getItem("console.token")}` };
      if (body !== undefined) headers["Content-Type"] = "application/json";
      if (ifMatch) headers["If-Match"] = ifMatch;
      const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await r.text();
      return { status: r.status, etag: r.headers.get("ETag"), body: text ? JSON.parse(text) : null };
    },
    { url: `${info.api}/admin/v1${path}`, method, body, ifMatch },
  );
}

/** The newest email the local Cognito sent to `to` of `kind` (`CustomMessage_SignUp`, ...) in
 * the stack `info`'s mail inbox, polled: it is written as Cognito answers. */
export async function emailTo(p, info, to, kind) {
  for (let i = 0; i < 50; i++) {
    const mails = await (await p.request.get(`${info.mail}/messages?to=${encodeURIComponent(to)}`)).json();
    const mail = mails.find((m) => m.kind === kind);
    if (mail) return mail;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${kind} email to ${to}`);
}
