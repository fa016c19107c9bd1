// Browser tests of the operators' console (console/, built into console/dist and served at
// {form}/console/ by the dev server): people sign in through the bridge (the form, then an SMS
// code), and change apps, keys, people, organisations, telephony hooks and workflows through the
// admin API (a viewer or an operator only what their role allows), in headless Debian Chromium
// driven by playwright-core. axe-core checks every page; nothing serious or critical may show.
// Build the console first (cd console && npm install && npm run build).

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { callConsoleApi, consoleA11y, emailTo, FORM, identify, root, signInToConsole, startStack, step, watchCsp } from "./stack.mjs";

const shots = process.env.SCREENSHOT_DIR;
let info;
let browser;
let stop;

before(async () => {
  assert.ok(existsSync(join(root, "console", "dist", "index.html")), "build the console first: cd console && npm install && npm run build");
  // The SCIM function trusts a verified token for SCIM_AUTH_TTL_SECONDS (60 by default) per
  // warm instance (README, "Organisations"); at 0 a revoked token's next request gets 401, which
  // the organisation tests check.
  ({ info, browser, stop } = await startStack({ env: { SCIM_AUTH_TTL_SECONDS: "0" } }));
});

after(async () => {
  if (stop) await stop();
});

const consoleUrl = () => `${info.form}/console/`;

/** A page in a fresh context. Every page records the CSP violations it meets (the console runs
 * under its own CSP: the tests never bypass it). Reduced motion: Pico then changes colours at
 * once, so axe never measures a button's contrast halfway through a transition. */
async function page(locale, options = {}) {
  const context = await browser.newContext({ locale, extraHTTPHeaders: { "Accept-Language": locale }, reducedMotion: "reduce", ...options });
  return watchCsp(await context.newPage());
}

async function shot(p, name) {
  if (!shots) return;
  // The whole page, up to 2,400 CSS pixels down (the audit trail gets long).
  const { width, height } = await p.evaluate(() => ({ width: document.documentElement.clientWidth, height: document.documentElement.scrollHeight }));
  await p.screenshot({ path: join(shots, `console-${name}.png`), fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, 2400) } });
}

/** axe-core and the CSP on the console's page as it is (`consoleA11y`), then a screenshot. */
async function checkA11y(p, name) {
  await consoleA11y(p, name, info.form);
  await shot(p, name);
}

const signIn = (p, user, options) => signInToConsole(p, info, user, options);

const tokenOf = (p) => p.evaluate(() => sessionStorage.getItem("console.token"));

/** The admin API called from the console's own page (`callApi`). */
const callApi = (p, path, options) => callConsoleApi(p, info, path, options);

const h1 = (p) => p.locator("main h1");
const nav = (p, name) => p.getByRole("navigation").getByRole("link", { name, exact: true });
const dialog = (p) => p.locator("dialog[open]");
const stamp = () => `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;

test("the admin signs in through the bridge and lands on the overview, in English and in Japanese, with a working language switch", async () => {
  const p = await page("en-US");
  await p.goto(consoleUrl());
  await p.getByRole("heading", { name: "Operators' console", level: 1 }).waitFor();
  assert.equal(await p.evaluate(() => document.documentElement.lang), "en");
  await checkA11y(p, "en-sign-in");

  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const you = p.getByRole("region", { name: "You" });
  await you.getByText(info.users.admin.email).waitFor();
  await you.getByText("Admin", { exact: true }).waitFor();
  // Counts of apps and keys, and the latest changes (the local stack's own, through the CLI).
  const apps = await callApi(p, "/apps");
  await p.locator(".count").filter({ hasText: "Apps" }).locator(".figure").filter({ hasText: String(apps.body.apps.length) }).waitFor();
  await p.getByRole("region", { name: "Latest changes" }).getByRole("table").waitFor();
  assert.ok((await p.getByRole("region", { name: "Latest changes" }).locator("tbody tr").count()) > 0);
  await checkA11y(p, "en-overview");

  // The switch: Japanese, kept across a reload, then back.
  await p.getByRole("button", { name: "日本語" }).click();
  await h1(p).filter({ hasText: "概要" }).waitFor();
  assert.equal(await p.evaluate(() => document.documentElement.lang), "ja");
  assert.equal(await p.getByRole("button", { name: "日本語" }).getAttribute("aria-pressed"), "true");
  await nav(p, "アプリ").waitFor();
  await p.reload();
  await h1(p).filter({ hasText: "概要" }).waitFor();
  assert.equal(await p.evaluate(() => document.documentElement.lang), "ja");
  await checkA11y(p, "ja-overview-switched");
  await p.getByRole("button", { name: "English" }).click();
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  assert.equal(await p.evaluate(() => document.documentElement.lang), "en");

  // Sign out ends the bridge session too: the form says so, and the next "Sign in" in this
  // browser asks for a password, so whoever uses this computer next does not enter as the admin.
  // A copy of the token kept from before (a `#jwt=` left in the browser's history) opens
  // nothing afterwards either.
  const copy = await tokenOf(p);
  assert.equal((await callApi(p, "/me")).status, 200);
  await p.getByRole("button", { name: "Sign out" }).click();
  await p.waitForURL((url) => url.href.startsWith(info.form) && !url.pathname.startsWith("/console/"));
  await p.locator("#notice").filter({ hasText: "You have signed out." }).waitFor();
  assert.equal(await tokenOf(p), null);
  const replayed = await p.evaluate(
    async ({ url, token }) => (await fetch(url, { headers: { Authorization: `Bearer ${token}` } })).status,
    { url: `${info.api}/admin/v1/me`, token: copy },
  );
  assert.equal(replayed, 401, "the token ends with the sign-out");
  await p.goto(consoleUrl());
  await p.getByRole("button", { name: "Sign in", exact: true }).click();
  await p.waitForURL((url) => url.href.startsWith(info.form) && !url.pathname.startsWith("/console/"));
  await p.locator("#step-identify:visible, #step-password:visible").first().waitFor();
  assert.equal(await tokenOf(p), null, "no token without a password");
  // Signing in again there comes back to the console.
  await identify(p, info.users.admin.email);
  await step(p, "password").getByLabel("Password", { exact: true }).fill(info.users.admin.password);
  await step(p, "password").getByRole("button", { name: "Sign in" }).click();
  await step(p, "code").getByLabel("Code").fill("123456");
  await step(p, "code").getByRole("button", { name: "Verify" }).click();
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await p.context().close();

  // Japanese from the browser's languages; the page asked for before signing in comes back.
  const ja = await page("ja-JP");
  await signIn(ja, info.users.admin, { lang: "ja", route: "#/audit" });
  await h1(ja).filter({ hasText: "監査ログ" }).waitFor();
  assert.match(ja.url(), /\/console\/(index\.html)?#\/audit$/);
  assert.equal(await ja.evaluate(() => document.documentElement.lang), "ja");
  await nav(ja, "概要").click();
  await h1(ja).filter({ hasText: "概要" }).waitFor();
  await ja.getByRole("region", { name: "あなた" }).getByText("管理者", { exact: true }).waitFor();
  // The latest ten changes are the local stack's own; its last one imports the workflow.
  await ja.getByRole("region", { name: "最近の変更" }).getByText("ワークフローの作成").first().waitFor();
  await checkA11y(ja, "ja-overview");
  await ja.context().close();
});

/** The overview's sign-ins chart, once there: the page is reloaded while the runner has not yet
 * counted a sign-in from the stream (it does within a couple of seconds; 10 s at most here). */
async function signInsChart(p) {
  const region = p.getByRole("region", { name: "Sign-ins" });
  for (const end = Date.now() + 10_000; ; ) {
    await region.locator(".metrics-summary").waitFor();
    if (await region.locator("canvas").count()) return region.locator("canvas");
    assert.ok(Date.now() < end, "a sign-in counted within 10 s");
    await p.waitForTimeout(1000);
    await p.reload();
  }
}

/**
 * Puts the overview's counters of days before today (`{ daysAgo: { sign_ins, ... } }`) straight
 * into the local table (the workflow runner adds today's from the event stream). Returns each
 * day's date (UTC).
 */
async function seedDailyCounts(days) {
  const today = Math.floor(Date.now() / 86_400_000);
  const dates = {};
  for (const [ago, counts] of Object.entries(days)) {
    assert.ok(Number(ago) > 0, "today is the runner's");
    const day = today - Number(ago);
    dates[ago] = new Date(day * 86_400_000).toISOString().slice(0, 10);
    const item = { pk: { S: "STATS#daily" }, sk: { S: String(day).padStart(6, "0") } };
    for (const [name, n] of Object.entries(counts)) item[name] = { N: String(n) };
    const r = await fetch(info.moto, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        Authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${info.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({ TableName: info.table_name, Item: item }),
    });
    assert.equal(r.status, 200, await r.text());
  }
  return dates;
}

/** The figures of a chart's table (`region`) for `date`, as numbers ([] if the day is not there). */
const figuresOn = async (region, date) => (await region.locator(`table.metrics-table tbody tr:has(time[datetime="${date}"]) td`).allTextContents()).map((t) => Number(t.replace(/,/g, "")));
/** A chart table's column `i` (0: the first figure), added up over its days. */
const columnTotal = async (region, i) => (await region.locator(`table.metrics-table tbody tr td:nth-of-type(${i + 1})`).allTextContents()).reduce((n, t) => n + Number(t.replace(/,/g, "")), 0);

test("a console token in a link the tab did not ask for is not taken: someone else's sign-in cannot be planted in an operator's tab", async () => {
  const attacker = await page("en-US");
  await signIn(attacker, info.users.admin);
  await h1(attacker).filter({ hasText: "Overview" }).waitFor();
  const planted = await tokenOf(attacker);
  assert.ok(planted, "a real console token");
  const p = await page("en-US");
  await p.goto(`${consoleUrl()}#jwt=${encodeURIComponent(planted)}`);
  await p.getByRole("button", { name: "Sign in", exact: true }).waitFor();
  assert.equal(await tokenOf(p), null, "not kept");
  assert.ok(!p.url().includes("jwt="), "and not left in the address bar");
});

test("text in a link's address never becomes a page's heading: an item the API does not know shows the page's own heading and the API's refusal", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const spoof = "Your account is locked. Call +81 3-0000-0000";
  for (const [route, heading] of [["apps", "App"], ["people", "Person"], ["orgs", "Organisation"], ["hooks", "Telephony hook"], ["workflows", "Workflow"]]) {
    await p.goto(`${consoleUrl()}#/${route}/${encodeURIComponent(spoof)}`);
    await p.locator("main [role=alert]").first().waitFor();
    assert.equal((await h1(p).innerText()).trim(), heading, `#/${route}/...`);
    assert.ok(!(await p.locator("main").innerText()).includes("locked"), `#/${route}/...: the address's text is nowhere on the page`);
  }
});

test("the overview charts the last 30 days: today's sign-ins (the admin's) and failed sign-ins (a wrong password first), SCIM changes and hook messages, each with its totals and a table; a failed call leaves the rest of the overview working", async () => {
  // Two days ago from the table; 40 days ago is outside the 30 days.
  const dates = await seedDailyCounts({
    2: { sign_ins: 4, failed_sign_ins: 1, high_risk: 2, scim_changes: 3, hook_deliveries: 5, hook_failures: 2 },
    40: { sign_ins: 9, failed_sign_ins: 9, scim_changes: 9, hook_deliveries: 9 },
  });
  const p = await page("en-US");
  const chartLoads = [];
  p.on("request", (r) => {
    if (/\/assets\/chart-setup-[^/]*\.js$/.test(new URL(r.url()).pathname)) chartLoads.push(r.url());
  });
  await p.goto(consoleUrl());
  await p.getByRole("heading", { name: "Operators' console", level: 1 }).waitFor();
  assert.deepEqual(chartLoads, [], "no Chart.js before a page has a chart");
  // A wrong password for someone first (a `user.sign_in_failed`), then the admin (a `user.signed_in`).
  await signIn(p, info.users.admin, { wrongFirst: info.users.hanako.email });
  await h1(p).filter({ hasText: "Overview" }).waitFor();

  // The runner counts the stream's events within a couple of seconds: reload until today has both.
  const today = new Date().toISOString().slice(0, 10);
  const daily = p.getByRole("region", { name: "Last 30 days" });
  const signIns = daily.getByRole("region", { name: "Sign-ins" });
  let figures = [];
  for (const end = Date.now() + 10_000; ; ) {
    await signIns.locator(".metrics-summary").waitFor();
    figures = await figuresOn(signIns, today);
    if (figures[0] >= 1 && figures[1] >= 1) break;
    assert.ok(Date.now() < end, `today's sign-ins and failed sign-ins within 10 s: ${JSON.stringify(figures)}`);
    await p.waitForTimeout(1000);
    chartLoads.length = 0; // each page loads Chart.js for itself
    await p.reload();
    await h1(p).filter({ hasText: "Overview" }).waitFor();
  }
  const [signedIn, failed, highRisk] = figures;
  assert.ok(signedIn >= 1 && failed >= 1 && highRisk >= 0, `today: ${figures}`);

  // The sign-ins: totals as text, the chart (Chart.js loaded with it, once), and 30 days in its table.
  const totals = [await columnTotal(signIns, 0), await columnTotal(signIns, 1), await columnTotal(signIns, 2)];
  assert.ok(totals[0] >= 5 && totals[1] >= 2 && totals[2] >= 2, `with the seeded day: ${totals}`);
  await signIns.getByText(`Sign-ins: ${totals[0]}. Failed: ${totals[1]}. High-risk: ${totals[2]}.`, { exact: true }).waitFor();
  assert.equal(await signIns.locator("canvas").count(), 1);
  assert.equal(await signIns.locator("canvas").getAttribute("aria-label"), `Sign-ins per day over the last 30 days: ${totals[0]} sign-ins, ${totals[1]} failed, ${totals[2]} high-risk.`);
  await drawn(p, [0x2f, 0x6a, 0xe6], { canvas: "#sign-ins-heading ~ figure canvas", below: 0.6 }); // sign-in bars
  await drawn(p, [0xb3, 0x5c, 0x00], { canvas: "#sign-ins-heading ~ figure canvas", below: 0.6 }); // high-risk bars
  assert.equal(await signIns.locator("table.metrics-table tbody tr").count(), 30, "every one of the 30 days");
  assert.deepEqual(await figuresOn(signIns, dates[2]), [4, 1, 2]);
  assert.deepEqual(await figuresOn(signIns, dates[40]), [], "not older than 30 days");

  // SCIM changes and hook messages (delivered, failed, all), the same way.
  const scim = daily.getByRole("region", { name: "SCIM changes" });
  assert.deepEqual(await figuresOn(scim, dates[2]), [3]);
  const changes = await columnTotal(scim, 0);
  await scim.getByText(`Changes: ${changes}.`, { exact: true }).waitFor();
  assert.equal(await scim.locator("canvas").getAttribute("aria-label"), `SCIM changes per day over the last 30 days: ${changes} in all.`);
  const hooks = daily.getByRole("region", { name: "Telephony hook messages" });
  assert.deepEqual(await figuresOn(hooks, dates[2]), [3, 2, 5]);
  const [delivered, hookFailed, messages] = [await columnTotal(hooks, 0), await columnTotal(hooks, 1), await columnTotal(hooks, 2)];
  assert.equal(delivered + hookFailed, messages);
  await hooks.getByText(`Messages: ${messages}. Delivered: ${delivered}. Failed: ${hookFailed}.`, { exact: true }).waitFor();
  assert.equal(await hooks.locator("canvas").getAttribute("aria-label"), `Telephony hook messages per day over the last 30 days: ${delivered} delivered, ${hookFailed} failed.`);
  assert.equal(await daily.locator("canvas").count(), 3);
  assert.equal(chartLoads.length, 1, "Chart.js is loaded once, with the charts");
  for (const region of [signIns, scim, hooks]) await region.getByText("Figures per day").click();
  await signIns.getByRole("row").filter({ has: p.locator(`time[datetime="${today}"]`) }).waitFor();
  await checkA11y(p, "en-overview-charts");

  // In Japanese.
  await p.getByRole("button", { name: "日本語" }).click();
  const ja = p.getByRole("region", { name: "過去 30 日間" });
  await ja.getByRole("region", { name: "サインイン" }).getByText(`サインイン ${totals[0]} 件、失敗 ${totals[1]} 件、高リスク ${totals[2]} 件。`, { exact: true }).waitFor();
  await ja.getByRole("region", { name: "SCIM による変更" }).getByText(`変更 ${changes} 件。`, { exact: true }).waitFor();
  await ja.getByRole("region", { name: "SMS 送信フックのメッセージ" }).getByText(`メッセージ ${messages} 件: 配信成功 ${delivered} 件、失敗 ${hookFailed} 件。`, { exact: true }).waitFor();
  assert.equal(await ja.getByRole("region", { name: "サインイン" }).locator("thead th").first().textContent(), "日付（UTC）");
  await checkA11y(p, "ja-overview-charts");
  await p.getByRole("button", { name: "English" }).click();
  await h1(p).filter({ hasText: "Overview" }).waitFor();

  // The API failing: said in its place; the configuration and the latest changes still there.
  const overviewRoute = (url) => url.href.startsWith(`${info.api}/admin/v1/overview?`);
  await p.route(overviewRoute, async (route) => {
    if (route.request().method() !== "GET") return route.continue();
    const response = await route.fetch();
    const headers = { ...response.headers(), "content-type": "application/json" };
    delete headers["content-length"];
    await route.fulfill({ status: 503, headers, body: JSON.stringify({ error: "unavailable", message: "The store is unreachable." }) });
  });
  await p.reload();
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await daily.getByRole("alert").filter({ hasText: "The admin API is unavailable for a moment. Try again shortly." }).waitFor();
  assert.equal(await daily.locator("canvas").count(), 0, "no chart");
  const apps = await callApi(p, "/apps");
  await p.locator(".count").filter({ hasText: "Apps" }).locator(".figure").filter({ hasText: String(apps.body.apps.length) }).waitFor();
  await p.getByRole("region", { name: "Latest changes" }).getByRole("table").waitFor();
  await checkA11y(p, "overview-charts-error");
  await p.unroute(overviewRoute);
  await p.context().close();
});

test("through the UI an admin creates an app (its secret shown once), rotates a key, disables, enables and signs out a person, and resets another's second factors and password; the audit trail shows each", async () => {
  const p = await page("en-US");
  await p.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: info.form });
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();

  // An app that shares a secret (DiscourseConnect), the secret generated.
  const id = `console-${stamp()}`;
  await nav(p, "Apps").click();
  await h1(p).filter({ hasText: "Apps" }).waitFor();
  await p.getByRole("table").waitFor();
  await checkA11y(p, "apps");
  await p.getByRole("button", { name: "New app" }).click();
  await h1(p).filter({ hasText: "New app" }).waitFor();
  await p.getByLabel("ID", { exact: true }).fill(id);
  await p.getByLabel("Name", { exact: true }).fill("Console test forum");
  await p.getByLabel("Kind", { exact: true }).selectOption("discourse");
  const settings = p.getByLabel("Settings for this kind (JSON)");
  await settings.fill('{"forum_url": "https://forum.example.com"');
  await p.getByText("This is not valid JSON").waitFor();
  assert.equal(await settings.getAttribute("aria-invalid"), "true");
  await settings.fill('{"forum_url": "https://forum.example.com"}');
  assert.equal(await p.getByText("This is not valid JSON").count(), 0);
  await p.getByLabel("Allowed origins").fill("https://forum.example.com");
  // Its home page must be on an allowed origin.
  const home = p.getByLabel("Home page (optional)");
  await home.fill("https://evil.example/latest");
  await home.blur();
  await p.getByText("Enter a full URL on one of the allowed origins").waitFor();
  await home.fill("https://forum.example.com/latest");
  assert.equal(await p.getByText("Enter a full URL on one of the allowed origins").count(), 0);
  // Who may sign in: a group, and an organisation's id (a name is refused as it is typed).
  await p.getByLabel("Cognito groups (one per line)").fill("forum-staff");
  await p.getByLabel("Organisation IDs (one per line)").fill("Example Corp");
  await p.getByText("Example Corp is not an organisation ID").waitFor();
  await p.getByLabel("Organisation IDs (one per line)").fill(info.org_id);
  assert.equal(await p.getByText("is not an organisation ID").count(), 0);
  await p.getByLabel("Generate one (shown once)").check();
  await checkA11y(p, "new-app");
  await p.getByRole("button", { name: "Create app" }).click();

  const shown = dialog(p);
  await shown.getByRole("heading", { name: "The app's secret" }).waitFor();
  await shown.getByText("It will not be shown again").waitFor();
  const secret = await shown.getByLabel("Secret").inputValue();
  assert.ok(secret.length >= 16, "a generated secret");
  await checkA11y(p, "secret-dialog");
  await shown.getByRole("button", { name: "Copy" }).click();
  await shown.getByRole("status").filter({ hasText: "Copied to the clipboard." }).waitFor();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), secret);
  await shown.getByRole("button", { name: "Done" }).click();
  await h1(p).filter({ hasText: "Console test forum" }).waitFor();
  await p.getByRole("status").filter({ hasText: `App ${id} created.` }).waitFor();
  assert.match(p.url(), new RegExp(`#/apps/${id}$`));
  await p.reload();
  await h1(p).filter({ hasText: "Console test forum" }).waitFor();
  await p.getByText("Set", { exact: true }).waitFor(); // has_secret
  await p.getByRole("listitem").filter({ hasText: "Group forum-staff" }).waitFor();
  await p.getByRole("link", { name: info.org_id }).waitFor();
  await p.getByText("https://forum.example.com/latest", { exact: true }).waitFor();
  assert.ok(!(await p.content()).includes(secret), "the secret is not on the app's page");
  assert.equal(await p.locator("dialog[open]").count(), 0);
  await checkA11y(p, "app");

  // A new RS256 key (the console's own tokens are ES256), published a day before it signs.
  await nav(p, "Signing keys").click();
  await h1(p).filter({ hasText: "Signing keys" }).waitFor();
  await p.getByRole("table").waitFor();
  await checkA11y(p, "keys");
  await p.getByLabel("Algorithm").selectOption("RS256");
  await p.getByLabel("Lead time (hours)").fill("24");
  await p.getByRole("button", { name: "Rotate RS256 key" }).click();
  const rotated = await p.getByRole("status").filter({ hasText: "New RS256 key" }).textContent();
  const kid = rotated.match(/key (\S+): published now/)[1];
  await p.getByRole("row").filter({ hasText: kid }).filter({ hasText: "Published, signs later" }).waitFor();

  // A person: disabled, enabled again, signed out everywhere (each confirmed first).
  const person = info.users.guarded;
  await nav(p, "People").click();
  await h1(p).filter({ hasText: "People" }).waitFor();
  await checkA11y(p, "people");
  await p.getByRole("search").getByLabel("Email").fill("nobody@example.com");
  await p.getByRole("button", { name: "Find", exact: true }).click();
  await p.getByRole("alert").filter({ hasText: "No one has the email nobody@example.com." }).waitFor();
  // The apps whose access admits a person: hanako by her group at the app made above.
  const appRow = (id) => p.getByRole("region", { name: "Apps" }).getByRole("row").filter({ has: p.getByRole("link", { name: id, exact: true }) });
  await p.getByRole("search").getByLabel("Email").fill(info.users.hanako.email);
  await p.getByRole("button", { name: "Find", exact: true }).click();
  await h1(p).filter({ hasText: info.users.hanako.email }).waitFor();
  await appRow(id).getByText("Yes (group forum-staff)").waitFor();
  await appRow(info.agents_app_id).getByText("Yes (group zendesk-agents)").waitFor();
  await nav(p, "People").click();
  await h1(p).filter({ hasText: "People" }).waitFor();
  await p.getByRole("search").getByLabel("Email").fill(person.email);
  await p.getByRole("button", { name: "Find", exact: true }).click();
  await h1(p).filter({ hasText: person.email }).waitFor();
  const username = await p.locator("dt:text-is('User name') + dd").textContent();
  await p.getByText("Enabled", { exact: true }).waitFor();
  // The agents' app lists a group the guarded person is not in.
  await appRow(info.agents_app_id).getByText("No: the app's access lists neither their groups nor their organisation").waitFor();
  await appRow(info.app_id).getByText("Yes (the app admits everyone)").waitFor();
  await checkA11y(p, "person");

  await p.getByRole("button", { name: "Disable", exact: true }).click();
  await dialog(p).getByText("can no longer sign in, and every session and refresh token they have ends now").waitFor();
  await checkA11y(p, "confirm-disable");
  await dialog(p).getByRole("button", { name: "Disable", exact: true }).click();
  await p.getByRole("status").filter({ hasText: `${person.email} is disabled.` }).waitFor();
  await p.getByText("Disabled", { exact: true }).waitFor();
  assert.equal((await callApi(p, `/people/${encodeURIComponent(username)}`)).body.enabled, false);

  await p.getByRole("button", { name: "Enable", exact: true }).click();
  await dialog(p).getByRole("button", { name: "Enable", exact: true }).click();
  await p.getByRole("status").filter({ hasText: `${person.email} is enabled.` }).waitFor();
  await p.getByText("Enabled", { exact: true }).waitFor();

  await p.getByRole("button", { name: "Sign out everywhere" }).click();
  await dialog(p).getByRole("button", { name: "Sign out everywhere" }).click();
  await p.getByRole("status").filter({ hasText: `${person.email} is signed out everywhere.` }).waitFor();
  await p.getByText("No live sessions.").waitFor();

  // A lost phone: the person's SMS code turned off, asked first; the page then shows none.
  const lost = info.users.lostphone;
  await nav(p, "People").click();
  await p.getByRole("search").getByLabel("Email").fill(lost.email);
  await p.getByRole("button", { name: "Find", exact: true }).click();
  await h1(p).filter({ hasText: lost.email }).waitFor();
  const lostUsername = await p.locator("dt:text-is('User name') + dd").textContent();
  await p.locator("dt:text-is('Second factors') + dd").filter({ hasText: "Text message (SMS)" }).waitFor();
  await p.getByRole("button", { name: "Reset second factors" }).click();
  await dialog(p).getByRole("heading", { name: `Reset ${lost.email}'s second factors?` }).waitFor();
  await dialog(p).getByText("every session and refresh token they have ends now", { exact: false }).waitFor();
  await checkA11y(p, "confirm-reset-factors");
  await dialog(p).getByRole("button", { name: "Reset second factors" }).click();
  await p.getByRole("status").filter({ hasText: `${lost.email}'s second factors are off, and they are signed out everywhere.` }).waitFor();
  await p.locator("dt:text-is('Second factors') + dd").filter({ hasText: "None" }).waitFor();
  assert.equal(await p.getByRole("button", { name: "Reset second factors" }).count(), 0, "nothing left to reset");
  assert.deepEqual((await callApi(p, `/people/${encodeURIComponent(lostUsername)}`)).body.factors, []);
  // Their password may be known too: a new one required, asked first; the code goes to their inbox.
  await p.getByRole("button", { name: "Require a new password" }).click();
  await dialog(p).getByRole("heading", { name: `Require a new password of ${lost.email}?` }).waitFor();
  await checkA11y(p, "confirm-reset-password");
  await dialog(p).getByRole("button", { name: "Require a new password" }).click();
  await p.getByRole("status").filter({ hasText: `${lost.email} must choose a new password; a code was sent to their email.` }).waitFor();
  await p.locator("dt:text-is('Account') + dd").filter({ hasText: "New password required" }).waitFor();
  // On the form, their old password now asks for that code and a new password, which land them in the app.
  const them = await page("en-US");
  await them.goto(`${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/en-us")}`);
  await them.waitForURL((url) => url.href.startsWith(info.form));
  await identify(them, lost.email);
  await step(them, "password").getByLabel("Password", { exact: true }).fill(lost.password);
  await step(them, "password").getByRole("button", { name: "Sign in" }).click();
  await them.getByRole("alert").filter({ hasText: "You need to set a new password. Enter the code we sent you." }).waitFor();
  const codes = () => readFileSync(info.outbox, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((m) => m.destination === lost.email).map((m) => m.code);
  // The admin's code lost: a new one from the step itself, which replaces it.
  const sent = codes().length;
  await step(them, "reset").getByRole("button", { name: "Send a new code" }).click();
  await them.getByRole("status").filter({ hasText: "If you have an account, we have sent a code to your email." }).waitFor();
  assert.equal(codes().length, sent + 1, "one more code mailed");
  await step(them, "reset").getByLabel("Code").fill(codes().pop());
  await step(them, "reset").getByLabel("New password").fill("Lost-Phone-Passw0rd!");
  await step(them, "reset").getByRole("button", { name: "Set password and sign in" }).click();
  await them.waitForURL(`${info.demo_app}/hc/en-us`);
  await them.context().close();

  // The audit trail, by actor (an email: the console finds the person's sub).
  await nav(p, "Audit trail").click();
  await h1(p).filter({ hasText: "Audit trail" }).waitFor();
  await p.locator("li.record").first().waitFor(); // everything, newest first (the stack's CLI changes too)
  await p.getByLabel("Actor", { exact: true }).fill(info.users.admin.email);
  await p.getByRole("button", { name: "Apply" }).click();
  await p.waitForFunction((email) => {
    const actors = [...document.querySelectorAll("li.record .actor")].map((e) => e.textContent);
    return actors.length > 0 && actors.every((a) => a === email);
  }, info.users.admin.email);
  const record = (type, target) => p.locator("li.record").filter({ hasText: type }).filter({ has: p.locator("code.target", { hasText: new RegExp(`^${target.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) }) });
  const expected = [
    ["admin.app.created", `app:${id}`],
    ["admin.key.rotated", `key:${kid}`],
    ["admin.user.disabled", `user:${username}`],
    ["admin.user.enabled", `user:${username}`],
    ["admin.user.signed_out", `user:${username}`],
    ["admin.user.factors_reset", `user:${lostUsername}`],
    ["admin.user.password_reset_required", `user:${lostUsername}`],
  ];
  for (const [type, target] of expected) {
    const r = record(type, target);
    await r.first().waitFor();
    assert.equal(await r.count(), 1, `one ${type} on ${target}`);
    assert.equal(await r.locator(".actor").textContent(), info.users.admin.email, `${type}: the actor`);
    await r.getByText("Console or API").waitFor();
  }
  // Types by name as well as code.
  await record("admin.app.created", `app:${id}`).getByText("App created").waitFor();
  await record("admin.key.rotated", `key:${kid}`).getByText("Signing key rotated").waitFor();
  // The difference of the disable: enabled true -> false.
  const disabled = record("admin.user.disabled", `user:${username}`);
  await disabled.getByRole("row").filter({ hasText: "enabled" }).filter({ has: p.locator("del", { hasText: "true" }) }).filter({ has: p.locator("ins", { hasText: "false" }) }).waitFor();
  // Newest first.
  const order = await p.locator("li.record .type code").allTextContents();
  assert.ok(order.indexOf("admin.user.signed_out") < order.indexOf("admin.app.created"), "newest first");
  await checkA11y(p, "audit");

  // By target, from the app's page.
  await p.goto(`${consoleUrl()}#/apps/${id}`);
  await p.getByRole("link", { name: "Changes to this app" }).click();
  await h1(p).filter({ hasText: "Audit trail" }).waitFor();
  assert.equal(await p.getByLabel("Target").inputValue(), `app:${id}`);
  await record("admin.app.created", `app:${id}`).waitFor();
  assert.equal(await p.locator("li.record").count(), 1);
  await p.context().close();
});

test("a change behind the UI's back: saving the stale version says so and shows the other change", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const id = `stale-${stamp()}`;
  const created = await callApi(p, "/apps", {
    method: "POST",
    body: { id, name: "Before", target: { kind: "jwt", url: "https://tool.example.com/sso", algorithm: "ES256" }, allowed_origins: ["https://tool.example.com"] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.match(created.etag || "", /^"\d+"$/, "the ETag of a new app");

  await p.goto(`${consoleUrl()}#/apps/${id}`);
  await h1(p).filter({ hasText: "Before" }).waitFor();
  await p.getByRole("button", { name: "Edit" }).click();
  await p.getByLabel("Name", { exact: true }).waitFor();
  await checkA11y(p, "app-edit");

  // Someone else renames it meanwhile (with the version they read).
  const read = await callApi(p, `/apps/${id}`);
  assert.ok(read.etag, "GET /apps/{id} exposes its ETag to the console");
  const { id: _, version, has_secret, ...settings } = read.body;
  const other = await callApi(p, `/apps/${id}`, { method: "PUT", ifMatch: read.etag, body: { ...settings, name: "Changed elsewhere" } });
  assert.equal(other.status, 200, JSON.stringify(other.body));

  await p.getByLabel("Name", { exact: true }).fill("Changed here");
  await p.getByRole("button", { name: "Save changes" }).click();
  await p.getByRole("alert").filter({ hasText: "Someone else changed this after you opened it." }).waitFor();
  await h1(p).filter({ hasText: "Changed elsewhere" }).waitFor();
  assert.equal(await p.getByLabel("Name", { exact: true }).inputValue(), "Changed elsewhere", "the form shows the other change");
  await checkA11y(p, "app-stale");
  assert.equal((await callApi(p, `/apps/${id}`)).body.name, "Changed elsewhere", "nothing overwritten");

  // Made again on the new version, it goes through.
  await p.getByLabel("Name", { exact: true }).fill("Changed here");
  await p.getByRole("button", { name: "Save changes" }).click();
  await p.getByRole("status").filter({ hasText: "Saved." }).waitFor();
  await h1(p).filter({ hasText: "Changed here" }).waitFor();
  const after = await callApi(p, `/apps/${id}`);
  assert.equal(after.body.name, "Changed here");
  assert.notEqual(after.etag, other.etag, "a new version");

  // Deleting needs the current version too (after a confirmation that says what happens).
  await p.getByRole("button", { name: "Delete app" }).click();
  await dialog(p).getByText("People can no longer sign in to Changed here").waitFor();
  await checkA11y(p, "confirm-delete");
  await dialog(p).getByRole("button", { name: `Delete ${id}` }).click();
  await h1(p).filter({ hasText: "Apps" }).waitFor();
  await p.getByRole("status").filter({ hasText: `App ${id} deleted.` }).waitFor();
  assert.equal((await callApi(p, `/apps/${id}`)).status, 404);
  await p.context().close();
});

test("an expired token: the console signs in again through the live bridge session and comes back to the same page", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await nav(p, "Signing keys").click();
  await h1(p).filter({ hasText: "Signing keys" }).waitFor();
  // The API refuses this token (401), as it does a token past its 10 minutes.
  await p.evaluate(() => {
    sessionStorage.setItem("console.token", "expired.token.here");
    sessionStorage.setItem("console.tokenReceived", "0");
  });
  await p.reload();
  await p.waitForURL((url) => url.pathname.startsWith("/console/") && url.hash === "#/keys");
  await h1(p).filter({ hasText: "Signing keys" }).waitFor();
  await p.getByRole("table").waitFor();
  const token = await tokenOf(p);
  assert.ok(token && token !== "expired.token.here", "a new token");
  await p.context().close();
});

test("a viewer sees the apps but no control to change them, and the API refuses the viewer's changes", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.viewer);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await p.getByRole("region", { name: "You" }).getByText("Viewer", { exact: true }).waitFor();
  await nav(p, "Apps").click();
  await p.getByRole("row").filter({ hasText: info.app_id }).waitFor();
  assert.equal(await p.getByRole("button", { name: "New app" }).count(), 0);
  await p.getByText("Your role may read apps but not change them.").first().waitFor();
  await checkA11y(p, "viewer-apps");
  await p.getByRole("link", { name: "demo-tool" }).click();
  await h1(p).filter({ hasText: "Demo Tool" }).waitFor();
  await p.getByText("Kind settings").waitFor();
  for (const name of ["Edit", "Delete app", "Set a new secret"]) assert.equal(await p.getByRole("button", { name }).count(), 0, `no ${name}`);
  await nav(p, "Signing keys").click();
  await p.getByRole("table").waitFor();
  assert.equal(await p.getByRole("button", { name: /Rotate/ }).count(), 0);
  assert.equal(await p.getByRole("button", { name: /Prune/ }).count(), 0);
  await p.goto(`${consoleUrl()}#/people/${encodeURIComponent(info.users.hanako.email)}`);
  await h1(p).filter({ hasText: info.users.hanako.email }).waitFor();
  for (const name of ["Disable", "Sign out everywhere", "Change role", "Require a new password"]) assert.equal(await p.getByRole("button", { name }).count(), 0, `no ${name}`);
  // Someone with a second factor: no control to reset it either.
  await p.goto(`${consoleUrl()}#/people/${encodeURIComponent(info.users.mfa.email)}`);
  await p.locator("dt:text-is('Second factors') + dd").filter({ hasText: "Text message (SMS)" }).waitFor();
  assert.equal(await p.getByRole("button", { name: "Reset second factors" }).count(), 0, "no Reset second factors");
  await p.goto(`${consoleUrl()}#/people/${encodeURIComponent(info.users.hanako.email)}`);
  await h1(p).filter({ hasText: info.users.hanako.email }).waitFor();
  await checkA11y(p, "viewer-person");

  const read = await callApi(p, "/apps/demo-tool");
  const { id: _, version, has_secret, ...settings } = read.body;
  const put = await callApi(p, "/apps/demo-tool", { method: "PUT", ifMatch: read.etag, body: { ...settings, name: "Viewer was here" } });
  assert.equal(put.status, 403);
  assert.equal(put.body.error, "forbidden");
  const post = await callApi(p, "/apps", { method: "POST", body: { id: "viewer-app", name: "x", target: { kind: "discourse", forum_url: "https://f.example.com" }, allowed_origins: ["https://f.example.com"], generate_secret: true } });
  assert.equal(post.status, 403);
  assert.equal((await callApi(p, "/keys/rotate", { method: "POST", body: { alg: "ES256" } })).status, 403);
  assert.equal((await callApi(p, "/apps/demo-tool")).body.name, "Demo Tool", "unchanged");
  await p.context().close();
});

test("a customer without a console role sees only the no-access page, and the API answers 403", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.hanako, { sms: false });
  await p.getByRole("heading", { name: "You have no access to the console" }).waitFor();
  await p.getByRole("alert").filter({ hasText: "Your account has no console role." }).waitFor();
  assert.equal(await p.getByRole("navigation", { name: "Main" }).count(), 0, "no navigation");
  assert.equal(await p.getByRole("table").count(), 0);
  await checkA11y(p, "no-access");
  const me = await callApi(p, "/me");
  assert.equal(me.status, 403);
  assert.equal(me.body.error, "no_role");
  assert.equal((await callApi(p, "/apps")).status, 403);
  // Japanese too.
  await p.getByRole("button", { name: "日本語" }).click();
  await p.getByRole("heading", { name: "管理コンソールを利用する権限がありません" }).waitFor();
  await p.getByRole("button", { name: "English" }).click();

  // "Sign in as someone else" ends her bridge session; the form then signs an admin in.
  await p.getByRole("link", { name: "Sign in as someone else" }).click();
  await p.waitForURL((url) => url.href.startsWith(info.form) && !url.pathname.startsWith("/console/"));
  await identify(p, info.users.admin.email);
  await step(p, "password").getByLabel("Password", { exact: true }).fill(info.users.admin.password);
  await step(p, "password").getByRole("button", { name: "Sign in" }).click();
  await step(p, "code").getByLabel("Code").fill("123456");
  await step(p, "code").getByRole("button", { name: "Verify" }).click();
  await p.waitForURL((url) => url.pathname.startsWith("/console/") && !url.hash.startsWith("#jwt="));
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await p.getByRole("region", { name: "You" }).getByText(info.users.admin.email).waitFor();
  await p.context().close();
});

test("a page of another origin changes nothing, even with the admin's token", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const token = await tokenOf(p);
  const before = await callApi(p, "/apps/demo-tool");
  assert.equal(before.status, 200);

  // A page on the demo app's origin tries, with the token.
  const elsewhere = await p.context().newPage();
  await elsewhere.goto(`${info.demo_app}/api/me`);
  const attempt = await elsewhere.evaluate(
    async ({ url, token, etag }) => {
      try {
        const r = await fetch(url, {
          method: "PUT",
          headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "If-Match": etag },
          body: JSON.stringify({ name: "Hijacked", target: { kind: "jwt", url: "https://evil.example.com", algorithm: "HS256" }, allowed_origins: ["https://evil.example.com"] }),
        });
        return `answered ${r.status}`;
      } catch (e) {
        return `refused: ${e.name}`;
      }
    },
    { url: `${info.api}/admin/v1/apps/demo-tool`, token, etag: before.etag },
  );
  assert.match(attempt, /^refused: TypeError$|^answered 403$/, attempt);
  // Without the browser's CORS check: the API itself refuses another Origin.
  const direct = await p.request.put(`${info.api}/admin/v1/apps/demo-tool`, {
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "If-Match": before.etag, Origin: info.demo_app },
    data: { ...before.body, id: undefined, version: undefined, has_secret: undefined, name: "Hijacked" },
  });
  assert.equal(direct.status(), 403);
  assert.equal((await direct.json()).error, "origin_not_allowed");

  const afterwards = await callApi(p, "/apps/demo-tool");
  assert.equal(afterwards.body.name, before.body.name);
  assert.equal(afterwards.etag, before.etag, "the same version");
  await p.context().close();
});

/** What the SCIM API answers `token` (as the company's identity provider calls it). */
async function scimStatus(token) {
  const r = await fetch(`${info.api}/scim/v2/Users`, { headers: { Authorization: `Bearer ${token}`, Accept: "application/scim+json" } });
  return r.status;
}

/** The organisation the admin creates through the UI, deleted through the UI further down. */
let acme = null;

test("through the UI an admin creates an organisation, issues a SCIM token (shown once, working), connects its provider (the secret never shown) and revokes the token; the audit trail shows each", async () => {
  const p = await page("en-US");
  await p.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: info.form });
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const tag = stamp();
  const name = `Acme ${tag}`;

  await nav(p, "Organisations").click();
  await h1(p).filter({ hasText: "Organisations" }).waitFor();
  const corp = p.getByRole("row").filter({ hasText: "Example Corp" });
  await corp.getByText("corp.example", { exact: true }).waitFor();
  await corp.getByText("Connected", { exact: true }).waitFor();
  await corp.getByText("SCIM DELETE: deactivate").waitFor();
  await checkA11y(p, "orgs");

  // The new organisation: its domains checked as typed, normalised as the API keeps them.
  await p.getByRole("button", { name: "New organisation" }).click();
  const form = p.getByRole("region", { name: "New organisation" });
  await form.getByLabel("Name", { exact: true }).fill(name);
  const domains = form.getByLabel("Email domains");
  await domains.fill("acme-console.example, acme_console.example");
  await domains.blur();
  await form.getByText("acme_console.example is not a domain name").waitFor();
  assert.equal(await domains.getAttribute("aria-invalid"), "true");
  await domains.fill("Acme-Console.example,\nacme-console.co.jp.");
  assert.equal(await form.getByText("is not a domain name").count(), 0);
  await form.getByLabel("Delete: the person's account is removed").check();
  await form.getByLabel("People of this organisation may also sign in with a password").check();
  await checkA11y(p, "new-org");
  await form.getByRole("button", { name: "Create organisation" }).click();
  await h1(p).filter({ hasText: name }).waitFor();
  await p.getByRole("status").filter({ hasText: `Organisation ${name} created.` }).waitFor();
  const id = p.url().match(/#\/orgs\/(org-[0-9a-f]{20})$/)[1];
  const settings = p.getByRole("region", { name: "Settings" });
  await settings.getByText("acme-console.example", { exact: true }).waitFor();
  await settings.getByText("acme-console.co.jp", { exact: true }).waitFor();
  await settings.getByText("Delete: the person's account is removed").waitFor();
  await settings.getByText("Password sign-in allowed").waitFor();
  const created = await callApi(p, `/orgs/${id}`);
  assert.deepEqual({ name: created.body.name, domains: created.body.domains, policies: created.body.policies, connection: created.body.connection }, {
    name,
    domains: ["acme-console.example", "acme-console.co.jp"],
    policies: { delete: "delete", password_sign_in: true },
    connection: undefined,
  });
  await p.getByText("Not connected: people of acme-console.example, acme-console.co.jp cannot sign in through their company yet.").waitFor();
  await p.getByText("No SCIM tokens.").waitFor();
  await checkA11y(p, "org");

  // A SCIM token: its value and the base URL shown once, with copy buttons; it works.
  const tokens = p.getByRole("region", { name: "SCIM tokens" });
  await tokens.getByLabel("Label for a new token").fill("okta");
  await tokens.getByRole("button", { name: "Issue token" }).click();
  const shown = dialog(p);
  await shown.getByRole("heading", { name: "The SCIM token" }).waitFor();
  await shown.getByText("It will not be shown again").waitFor();
  const token = await shown.getByLabel("Token", { exact: true }).inputValue();
  assert.match(token, /^scim_/);
  assert.equal(await shown.getByLabel("SCIM base URL", { exact: true }).inputValue(), `${info.api}/scim/v2`);
  await checkA11y(p, "token-dialog");
  await shown.getByRole("button", { name: "Copy Token" }).click();
  await shown.getByRole("status").filter({ hasText: "Copied to the clipboard." }).waitFor();
  assert.equal(await p.evaluate(() => navigator.clipboard.readText()), token);
  await shown.getByRole("button", { name: "Done" }).click();
  await dialog(p).waitFor({ state: "detached" });
  await p.getByRole("status").filter({ hasText: "Token okta issued." }).waitFor();
  await tokens.getByRole("row").filter({ hasText: "okta" }).waitFor();
  assert.ok(!(await p.content()).includes(token), "the token leaves the page with its dialog");
  assert.equal(await scimStatus(token), 200, "the token works at the SCIM API");
  await p.reload();
  await h1(p).filter({ hasText: name }).waitFor();
  await tokens.getByRole("row").filter({ hasText: "okta" }).waitFor();
  assert.ok(!(await p.content()).includes(token), "the token is not on the organisation's page");

  // A second token (an organisation may hold two); a third is refused with the API's reason.
  await tokens.getByLabel("Label for a new token").fill("entra");
  await tokens.getByRole("button", { name: "Issue token" }).click();
  const second = await dialog(p).getByLabel("Token", { exact: true }).inputValue();
  await dialog(p).getByRole("button", { name: "Done" }).click();
  await dialog(p).waitFor({ state: "detached" });
  await tokens.getByRole("row").filter({ hasText: "entra" }).waitFor();
  await tokens.getByText("This organisation holds two tokens").waitFor();
  await tokens.getByLabel("Label for a new token").fill("spare");
  await tokens.getByRole("button", { name: "Issue token" }).click();
  await tokens.getByRole("alert").filter({ hasText: "at most 2 SCIM tokens" }).waitFor();
  assert.equal(await p.locator("dialog[open]").count(), 0, "no token shown");
  assert.equal((await callApi(p, `/orgs/${id}/tokens`)).body.tokens.length, 2);

  // The connection: the client secret written once, then only "stored".
  const secret = `acme-client-secret-${tag}`;
  const connection = p.getByRole("region", { name: "Corporate sign-in" });
  await connection.getByRole("button", { name: "Connect" }).click();
  await connection.getByLabel("Issuer").fill("https://idp.acme-console.example?x=1");
  await connection.getByLabel("Issuer").blur();
  await connection.getByText("The issuer has no query (?) or fragment (#).").waitFor();
  await connection.getByLabel("Issuer").fill("https://idp.acme-console.example");
  await connection.getByLabel("Client ID").fill("acme-bridge");
  const secretField = connection.getByLabel("Client secret");
  assert.equal(await secretField.getAttribute("type"), "password");
  await secretField.fill(secret);
  await connection.getByLabel("Single logout").check();
  await checkA11y(p, "org-connect");
  await connection.getByRole("button", { name: "Connect", exact: true }).click();
  await p.getByRole("status").filter({ hasText: "The connection is saved." }).waitFor();
  await connection.getByText("https://idp.acme-console.example", { exact: true }).waitFor();
  await connection.getByText("acme-bridge", { exact: true }).waitFor();
  await connection.locator("dt:text-is('Client secret') + dd").filter({ hasText: "Stored (never shown)" }).waitFor();
  assert.ok(!(await p.content()).includes(secret), "the secret is not on the page");
  const connected = await callApi(p, `/orgs/${id}`);
  assert.equal(connected.body.connection.has_client_secret, true);
  assert.equal(connected.body.connection.single_logout, true);
  assert.ok(!JSON.stringify(connected.body).includes(secret), "nor in what the API says");
  await p.reload();
  await h1(p).filter({ hasText: name }).waitFor();
  await connection.locator("dt:text-is('Client secret') + dd").filter({ hasText: "Stored (never shown)" }).waitFor();
  assert.ok(!(await p.content()).includes(secret), "the secret is not on the page after a reload");

  // Changed with the secret left empty: the stored one stays.
  await connection.getByRole("button", { name: "Change connection" }).click();
  await connection.getByText("Leave it empty to keep the stored one.").waitFor();
  assert.equal(await connection.getByLabel("Client secret").inputValue(), "");
  assert.equal(await connection.getByLabel("Issuer").inputValue(), "https://idp.acme-console.example");
  await connection.getByLabel("Client ID").fill("acme-bridge-2");
  await connection.getByRole("button", { name: "Save connection" }).click();
  await p.getByRole("status").filter({ hasText: "The connection is saved." }).waitFor();
  await connection.getByText("acme-bridge-2", { exact: true }).waitFor();
  await connection.locator("dt:text-is('Client secret') + dd").filter({ hasText: "Stored (never shown)" }).waitFor();
  const kept = await callApi(p, `/orgs/${id}`);
  assert.equal(kept.body.connection.client_id, "acme-bridge-2");
  assert.equal(kept.body.connection.has_client_secret, true, "the stored secret is kept");

  // Revoking the first token (confirmed): the SCIM API refuses it from then on.
  await tokens.getByRole("row").filter({ hasText: "okta" }).getByRole("button", { name: "Revoke" }).click();
  await dialog(p).getByText("The identity provider using it gets 401 from then on").waitFor();
  await checkA11y(p, "confirm-revoke");
  await dialog(p).getByRole("button", { name: "Revoke", exact: true }).click();
  await p.getByRole("status").filter({ hasText: "Token okta revoked." }).waitFor();
  await tokens.getByRole("row").filter({ hasText: "okta" }).waitFor({ state: "detached" });
  await tokens.getByRole("row").filter({ hasText: "entra" }).waitFor();
  assert.equal(await scimStatus(token), 401, "the revoked token is refused");
  assert.equal(await scimStatus(second), 200, "the other token still works");

  // The organisation's history: every change, by the admin, through the console.
  await p.getByRole("link", { name: "History" }).click();
  await h1(p).filter({ hasText: "Audit trail" }).waitFor();
  assert.equal(await p.getByLabel("Target").inputValue(), `org:${id}`);
  await p.locator("li.record").first().waitFor();
  const expected = { "admin.org.created": 1, "admin.org.token_issued": 2, "admin.org.connected": 2, "admin.org.token_revoked": 1 };
  for (const [type, n] of Object.entries(expected)) {
    const records = p.locator("li.record").filter({ has: p.locator(".type code", { hasText: new RegExp(`^${type.replace(/\./g, "\\.")}$`) }) });
    await records.first().waitFor();
    assert.equal(await records.count(), n, `${n} × ${type}`);
    for (const actor of await records.locator(".actor").allTextContents()) assert.equal(actor, info.users.admin.email, `${type}: the actor`);
    for (const target of await records.locator("code.target").allTextContents()) assert.equal(target, `org:${id}`);
  }
  assert.equal(await p.locator("li.record").count(), 6, "nothing else on this organisation");
  await p.locator("li.record").filter({ hasText: "SCIM token revoked" }).getByText("okta").first().waitFor();
  const html = await p.content();
  assert.ok(!html.includes(secret) && !html.includes(token) && !html.includes(second), "no secret in the audit trail");
  await checkA11y(p, "org-audit");
  acme = { id, name, token: second };
  await p.context().close();
});

test("a domain another organisation owns is refused with a localised message naming it and its owner; nothing is created or changed", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const tag = stamp();
  const name = `Taken ${tag}`;
  await p.goto(`${consoleUrl()}#/orgs`);
  await h1(p).filter({ hasText: "Organisations" }).waitFor();
  await p.getByRole("button", { name: "New organisation" }).click();
  await p.getByLabel("Name", { exact: true }).fill(name);
  await p.getByLabel("Email domains").fill(`free-${tag}.example\ncorp.example`);
  await p.getByRole("button", { name: "Create organisation" }).click();
  const refusal = p.getByRole("alert").filter({ hasText: "The domain corp.example belongs to the organisation Example Corp already." });
  await refusal.waitFor();
  assert.equal(await p.getByLabel("Email domains").getAttribute("aria-invalid"), "true");
  assert.match(p.url(), /#\/orgs$/, "still on the list");
  await checkA11y(p, "org-domain-taken");
  await p.getByRole("button", { name: "日本語" }).click();
  await p.getByRole("alert").filter({ hasText: "ドメイン corp.example はすでに組織「Example Corp」が所有しています。" }).waitFor();
  await p.getByRole("button", { name: "English" }).click();
  await refusal.waitFor();
  const all = (await callApi(p, "/orgs")).body.orgs;
  assert.equal(all.filter((o) => o.name === name).length, 0, "nothing created");
  assert.equal(all.filter((o) => o.domains.includes(`free-${tag}.example`)).length, 0, "the other domain is not taken either");
  assert.deepEqual(all.find((o) => o.name === "Example Corp").domains, ["corp.example"]);

  // Changing an organisation: a stale version first (reloaded, as the app page does), then the
  // taken domain, refused the same way.
  const made = await callApi(p, "/orgs", { method: "POST", body: { name: `Other ${tag}`, domains: [`other-${tag}.example`] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const id = made.body.id;
  await p.goto(`${consoleUrl()}#/orgs/${id}`);
  await h1(p).filter({ hasText: `Other ${tag}` }).waitFor();
  await p.getByRole("button", { name: "Edit" }).click();
  const renamed = await callApi(p, `/orgs/${id}`, { method: "PUT", ifMatch: made.etag, body: { name: `Renamed ${tag}`, domains: [`other-${tag}.example`] } });
  assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
  await p.getByLabel("Email domains").fill(`other-${tag}.example\ncorp.example`);
  await p.getByRole("button", { name: "Save changes" }).click();
  await p.getByRole("alert").filter({ hasText: "Someone else changed this after you opened it." }).waitFor();
  await h1(p).filter({ hasText: `Renamed ${tag}` }).waitFor();
  assert.equal(await p.getByLabel("Name", { exact: true }).inputValue(), `Renamed ${tag}`, "the form shows the other change");
  await p.getByLabel("Email domains").fill(`other-${tag}.example\ncorp.example`);
  await p.getByRole("button", { name: "Save changes" }).click();
  await p.getByRole("alert").filter({ hasText: "The domain corp.example belongs to the organisation Example Corp already." }).waitFor();
  await checkA11y(p, "org-edit-domain-taken");
  const after = await callApi(p, `/orgs/${id}`);
  assert.deepEqual(after.body.domains, [`other-${tag}.example`], "unchanged");
  assert.equal(after.etag, renamed.etag, "the same version");
  assert.equal((await callApi(p, `/orgs/${id}`, { method: "DELETE", ifMatch: after.etag })).status, 204);
  await p.context().close();
});

test("a viewer sees the organisations and an organisation's page but no control to change them", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.viewer);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await nav(p, "Organisations").click();
  await h1(p).filter({ hasText: "Organisations" }).waitFor();
  await p.getByRole("row").filter({ hasText: "Example Corp" }).waitFor();
  await p.getByText("Your role may read organisations but not change them.").waitFor();
  assert.equal(await p.getByRole("button", { name: "New organisation" }).count(), 0);
  assert.equal(await p.getByRole("textbox").count(), 0, "no form");
  await checkA11y(p, "viewer-orgs");
  await p.getByRole("link", { name: "Example Corp" }).click();
  await h1(p).filter({ hasText: "Example Corp" }).waitFor();
  await p.getByRole("region", { name: "Settings" }).getByText("corp.example", { exact: true }).waitFor();
  const connection = p.getByRole("region", { name: "Corporate sign-in" });
  await connection.getByText(info.company_idp, { exact: true }).waitFor();
  await connection.locator("dt:text-is('Client secret') + dd").filter({ hasText: "Stored (never shown)" }).waitFor();
  // Connected by `make dev` with the provider up: its settings were read then and kept.
  await connection.locator("dt:text-is('Provider settings') + dd").filter({ hasText: `Kept when the connection was saved: people go straight to ${info.company_idp}/` }).waitFor();
  await p.getByRole("region", { name: "SCIM tokens" }).getByRole("row").filter({ hasText: "demo" }).waitFor();
  await p.getByRole("link", { name: "History" }).waitFor();
  for (const name of ["Edit", "Delete organisation", "Connect", "Change connection", "Disconnect", "Issue token", "Revoke"]) {
    assert.equal(await p.getByRole("button", { name }).count(), 0, `no ${name}`);
  }
  assert.equal(await p.getByRole("textbox").count(), 0, "no form");
  await checkA11y(p, "viewer-org");
  assert.equal((await callApi(p, `/orgs/${info.org_id}/tokens`, { method: "POST", body: { label: "viewer" } })).status, 403);
  await p.context().close();
});

test("an admin deletes the organisation through the UI after a confirmation: it leaves the list, its tokens stop working and its domains are free", async () => {
  assert.ok(acme, "the organisation the first organisation test created");
  const p = await page("en-US");
  await signIn(p, info.users.admin, { route: `#/orgs/${acme.id}` });
  await h1(p).filter({ hasText: acme.name }).waitFor();
  assert.equal(await scimStatus(acme.token), 200, "its remaining token works until then");
  await p.getByRole("button", { name: "Delete organisation" }).click();
  const question = dialog(p);
  await question.getByText("Its domains (acme-console.example, acme-console.co.jp) are released, its SCIM tokens stop working, and its connection's client secret is deleted").waitFor();
  await checkA11y(p, "confirm-delete-org");
  await question.getByRole("button", { name: `Delete ${acme.name}` }).click();
  await h1(p).filter({ hasText: "Organisations" }).waitFor();
  await p.getByRole("status").filter({ hasText: `Organisation ${acme.name} deleted.` }).waitFor();
  await p.getByRole("row").filter({ hasText: "Example Corp" }).waitFor();
  assert.equal(await p.getByRole("row").filter({ hasText: acme.name }).count(), 0, "gone from the list");
  assert.equal((await callApi(p, `/orgs/${acme.id}`)).status, 404);
  assert.equal(await scimStatus(acme.token), 401, "its token stops working");
  // Its domain is free again.
  const again = await callApi(p, "/orgs", { method: "POST", body: { name: "Acme again", domains: ["acme-console.example"] } });
  assert.equal(again.status, 201, JSON.stringify(again.body));
  assert.equal((await callApi(p, `/orgs/${again.body.id}`, { method: "DELETE", ifMatch: again.etag })).status, 204);
  await p.context().close();
});

/** A new organisation of its own (through the API), for a test that must not depend on the others. */
async function newOrg(p, name, domain) {
  const made = await callApi(p, "/orgs", { method: "POST", body: { name, domains: [domain] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return made;
}

/** Deletes organisation `id` through the API, over the version it has now. */
async function deleteOrg(p, id) {
  const now = await callApi(p, `/orgs/${id}`);
  assert.equal((await callApi(p, `/orgs/${id}`, { method: "DELETE", ifMatch: now.etag })).status, 204);
}

test("an admin disconnects an organisation's provider through the UI after a confirmation saying what stops: the page and the API show no connection, and the audit trail shows the disconnect by the admin", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const tag = stamp();
  const name = `Disconnect ${tag}`;
  const domain = `disconnect-${tag}.example`;
  const issuer = `https://idp.${domain}`;
  const made = await newOrg(p, name, domain);
  const id = made.body.id;
  const connected = await callApi(p, `/orgs/${id}/connection`, {
    method: "PUT",
    ifMatch: made.etag,
    body: { kind: "oidc", issuer, client_id: "disconnect-bridge", client_secret: `disconnect-secret-${tag}` },
  });
  assert.equal(connected.status, 200, JSON.stringify(connected.body));
  assert.equal(connected.body.connection.has_client_secret, true);

  await p.goto(`${consoleUrl()}#/orgs/${id}`);
  await h1(p).filter({ hasText: name }).waitFor();
  const connection = p.getByRole("region", { name: "Corporate sign-in" });
  await connection.getByText(issuer, { exact: true }).waitFor();
  await connection.locator("dt:text-is('Client secret') + dd").filter({ hasText: "Stored (never shown)" }).waitFor();
  // No such provider: the connection is saved all the same, and the page says sign-in reads its settings.
  await connection.locator("dt:text-is('Provider settings') + dd").filter({ hasText: "Not kept: sign-in reads them from the provider" }).waitFor();
  assert.equal(connected.body.connection.metadata, null);

  // The question says what stops; cancelled, nothing changes and focus goes back to the button.
  const disconnect = connection.getByRole("button", { name: "Disconnect", exact: true });
  await disconnect.click();
  const question = dialog(p);
  await question.getByRole("heading", { name: `Disconnect ${name}?` }).waitFor();
  await question
    .getByText(`Corporate sign-in stops for the organisation's domains (${domain}): its people can no longer sign in through ${issuer}. The stored client secret is deleted; connecting again needs it entered anew.`)
    .waitFor();
  await checkA11y(p, "confirm-disconnect-org");
  await question.getByRole("button", { name: "Cancel" }).click();
  await dialog(p).waitFor({ state: "detached" });
  await p.waitForFunction(() => document.activeElement && document.activeElement.tagName === "BUTTON" && document.activeElement.textContent === "Disconnect" && !document.activeElement.closest("dialog"));
  assert.equal((await callApi(p, `/orgs/${id}`)).body.connection.issuer, issuer, "still connected");

  // Confirmed: the page says so and shows no connection, and the API has none.
  await disconnect.click();
  await dialog(p).getByRole("button", { name: "Disconnect", exact: true }).click();
  await p.getByRole("status").filter({ hasText: "Disconnected: the stored client secret is deleted." }).waitFor();
  await dialog(p).waitFor({ state: "detached" });
  await connection.getByText(`Not connected: people of ${domain} cannot sign in through their company yet.`).waitFor();
  assert.equal(await connection.getByText(issuer, { exact: true }).count(), 0, "the issuer is gone from the page");
  assert.equal(await connection.getByRole("button", { name: "Disconnect" }).count(), 0, "nothing left to disconnect");
  await connection.getByRole("button", { name: "Connect", exact: true }).waitFor();
  await checkA11y(p, "org-disconnected");
  const after = await callApi(p, `/orgs/${id}`);
  assert.equal(after.status, 200);
  assert.equal(after.body.connection, undefined, "no connection in the API");
  assert.equal(after.body.version, connected.body.version + 1);
  await p.reload();
  await h1(p).filter({ hasText: name }).waitFor();
  await connection.getByText(`Not connected: people of ${domain} cannot sign in through their company yet.`).waitFor();

  // The organisation's history: the disconnect, by the admin, through the console, with the
  // connection it removed.
  await p.getByRole("link", { name: "History" }).click();
  await h1(p).filter({ hasText: "Audit trail" }).waitFor();
  assert.equal(await p.getByLabel("Target").inputValue(), `org:${id}`);
  const records = p.locator("li.record").filter({ has: p.locator(".type code", { hasText: /^admin\.org\.disconnected$/ }) });
  await records.first().waitFor();
  assert.equal(await records.count(), 1, "one disconnect");
  await records.locator(".type").filter({ hasText: "Organisation disconnected" }).waitFor();
  await p.getByRole("article", { name: `Organisation disconnected org:${id}` }).waitFor();
  assert.equal(await records.locator(".actor").textContent(), info.users.admin.email);
  assert.equal(await records.locator("code.target").textContent(), `org:${id}`);
  const removed = records.getByRole("row").filter({ has: p.locator("th code", { hasText: /^connection\.issuer$/ }) });
  assert.equal(await removed.locator("del").textContent(), JSON.stringify(issuer), "the issuer it had");
  assert.equal(await removed.locator("ins").count(), 0, "and none after");
  assert.equal(await p.locator("li.record").count(), 3, "created, connected, disconnected");
  assert.ok(!(await p.content()).includes(`disconnect-secret-${tag}`), "no secret in the audit trail");
  await checkA11y(p, "org-disconnect-audit");
  await deleteOrg(p, id);
  await p.context().close();
});

test("a cognito connection names the user pool's identity provider: connected through the UI it shows on the organisation's page; without one the form refuses it with a localised message and nothing is saved; the API keeps the rule too", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const tag = stamp();
  const name = `Pool ${tag}`;
  const issuer = "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_Example";
  const made = await newOrg(p, name, `pool-${tag}.example`);
  const id = made.body.id;
  await p.goto(`${consoleUrl()}#/orgs/${id}`);
  await h1(p).filter({ hasText: name }).waitFor();
  const connection = p.getByRole("region", { name: "Corporate sign-in" });
  await connection.getByRole("button", { name: "Connect" }).click();

  // The identity provider is asked for only with the cognito kind.
  const kind = connection.getByLabel("Kind", { exact: true });
  assert.equal(await kind.inputValue(), "oidc");
  assert.equal(await connection.getByLabel("Identity provider", { exact: true }).count(), 0, "no identity provider for an OpenID provider");
  await kind.selectOption({ label: "Identity provider of the Cognito user pool" });
  const provider = connection.getByLabel("Identity provider", { exact: true });
  await provider.waitFor();
  await connection.getByText("The name of the provider in the Cognito user pool.").waitFor();
  await connection.getByLabel("Issuer").fill(issuer);
  await connection.getByLabel("Client ID").fill("pool-bridge");

  // Without it (empty, then only spaces): refused, said in the language shown, nothing sent.
  for (const value of ["", "   "]) {
    await provider.fill(value);
    await connection.getByRole("button", { name: "Connect", exact: true }).click();
    await connection.getByRole("alert").filter({ hasText: "Correct the fields marked below." }).waitFor();
    await connection.getByText("Enter the name of the pool's identity provider.").waitFor();
    assert.equal(await provider.getAttribute("aria-invalid"), "true");
    assert.equal(await p.evaluate(() => document.activeElement && document.activeElement.name), "identityProvider", "focus on the field to correct");
  }
  await checkA11y(p, "org-cognito-refused");
  // (The region is named in Japanese meanwhile: "会社のサインイン".)
  await p.getByRole("button", { name: "日本語" }).click();
  const ja = p.getByRole("region", { name: "会社のサインイン" });
  await ja.getByText("ユーザープールの ID プロバイダー名を入力してください。").waitFor();
  await ja.getByRole("alert").filter({ hasText: "下の印のある項目を修正してください。" }).waitFor();
  assert.equal(await ja.getByLabel("ID プロバイダー", { exact: true }).getAttribute("aria-invalid"), "true");
  await checkA11y(p, "ja-org-cognito-refused");
  await p.getByRole("button", { name: "English" }).click();
  await connection.getByText("Enter the name of the pool's identity provider.").waitFor();
  const unchanged = await callApi(p, `/orgs/${id}`);
  assert.equal(unchanged.body.connection, undefined, "nothing saved");
  assert.equal(unchanged.etag, made.etag, "the same version");

  // With it: saved, and shown with its identity provider.
  await provider.fill("AcmeEntraID");
  await connection.getByRole("button", { name: "Connect", exact: true }).click();
  await p.getByRole("status").filter({ hasText: "The connection is saved." }).waitFor();
  await connection.locator("dt:text-is('Kind') + dd").filter({ hasText: "Identity provider of the Cognito user pool" }).waitFor();
  await connection.locator("dt:text-is('Identity provider') + dd").filter({ hasText: /^AcmeEntraID$/ }).waitFor();
  await connection.getByText(issuer, { exact: true }).waitFor();
  await connection.locator("dt:text-is('Client secret') + dd").filter({ hasText: "None (public client)" }).waitFor();
  await checkA11y(p, "org-cognito");
  const saved = await callApi(p, `/orgs/${id}`);
  assert.deepEqual(
    { kind: saved.body.connection.kind, identity_provider: saved.body.connection.identity_provider, issuer: saved.body.connection.issuer, client_id: saved.body.connection.client_id },
    { kind: "cognito", identity_provider: "AcmeEntraID", issuer, client_id: "pool-bridge" },
  );
  await p.reload();
  await h1(p).filter({ hasText: name }).waitFor();
  await connection.locator("dt:text-is('Identity provider') + dd").filter({ hasText: /^AcmeEntraID$/ }).waitFor();

  // The API keeps the same rule: a cognito connection names one, an OpenID provider's does not.
  for (const [body, why] of [
    [{ kind: "cognito", issuer, client_id: "pool-bridge" }, "a cognito connection without an identity provider"],
    [{ kind: "oidc", issuer, client_id: "pool-bridge", identity_provider: "AcmeEntraID" }, "an OpenID provider's connection with one"],
  ]) {
    const refused = await callApi(p, `/orgs/${id}/connection`, { method: "PUT", ifMatch: saved.etag, body });
    assert.equal(refused.status, 400, `${why}: ${JSON.stringify(refused.body)}`);
  }
  assert.equal((await callApi(p, `/orgs/${id}`)).etag, saved.etag, "nothing changed");

  // Changed back to an OpenID provider through the UI: the identity provider goes with it.
  await connection.getByRole("button", { name: "Change connection" }).click();
  assert.equal(await kind.inputValue(), "cognito");
  assert.equal(await provider.inputValue(), "AcmeEntraID");
  await kind.selectOption("oidc");
  assert.equal(await connection.getByLabel("Identity provider", { exact: true }).count(), 0);
  await connection.getByRole("button", { name: "Save connection" }).click();
  await p.getByRole("status").filter({ hasText: "The connection is saved." }).waitFor();
  await connection.locator("dt:text-is('Kind') + dd").filter({ hasText: "OpenID provider" }).waitFor();
  assert.equal(await connection.locator("dt:text-is('Identity provider')").count(), 0, "no identity provider shown");
  await checkA11y(p, "org-cognito-to-oidc");
  const back = await callApi(p, `/orgs/${id}`);
  assert.equal(back.body.connection.kind, "oidc");
  assert.equal(back.body.connection.identity_provider, undefined);
  await deleteOrg(p, id);
  await p.context().close();
});

/**
 * Writes hook `name`'s daily counters into the local table as the SMS sender keeps them
 * (`HOOKSTATS#{name}`, one item per UTC day: total, succeeded, failed, succeeded_ms). `days` maps
 * days ago to [delivered, failed, milliseconds of the delivered ones together]. Returns the
 * dates (YYYY-MM-DD) by days ago.
 */
async function seedHookCounts(name, days) {
  const today = Math.floor(Date.now() / 86_400_000);
  const dates = {};
  for (const [ago, [ok, failed, ms]] of Object.entries(days)) {
    const day = today - Number(ago);
    dates[ago] = new Date(day * 86_400_000).toISOString().slice(0, 10);
    const r = await fetch(info.moto, {
      method: "POST",
      headers: {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "DynamoDB_20120810.PutItem",
        Authorization: `AWS4-HMAC-SHA256 Credential=local/20260101/${info.region}/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
      },
      body: JSON.stringify({
        TableName: info.table_name,
        Item: {
          pk: { S: `HOOKSTATS#${name}` },
          sk: { S: String(day).padStart(6, "0") },
          total: { N: String(ok + failed) },
          succeeded: { N: String(ok) },
          failed: { N: String(failed) },
          succeeded_ms: { N: String(ms) },
        },
      }),
    });
    assert.equal(r.status, 200, await r.text());
  }
  return dates;
}

/** The demo SMS service's inbox (newest first). */
const smsInbox = async () => (await fetch(`${info.telephony}/messages`)).json();

/** Whether the page's (first) chart canvas, or the one `canvas` selects, has pixels of `rgb` drawn
 * (within a small tolerance); with `below` (0 to 1), only under that part of its height (under
 * the legend, where bars start from zero). */
const drawn = (p, rgb, { canvas: selector = "figure.chart canvas", below = 0 } = {}) =>
  p.waitForFunction(
    ([[r, g, b], selector, below]) => {
      const canvas = document.querySelector(selector);
      if (!canvas || !canvas.width || !canvas.height) return false;
      const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
      const from = Math.floor(canvas.height * below) * canvas.width * 4;
      let n = 0;
      for (let i = from; i < data.length; i += 4) if (data[i + 3] > 200 && Math.abs(data[i] - r) < 8 && Math.abs(data[i + 1] - g) < 8 && Math.abs(data[i + 2] - b) < 8) n++;
      return n > 20;
    },
    [rgb, selector, below],
  );

test("through the UI an admin adds a telephony hook, switches the active hook back and forth, sends an edited preview that arrives in the demo SMS inbox, and deletes the hook; the figures show as a chart and the audit trail shows each change", async () => {
  const p = await page("en-US");
  const chartLoads = [];
  p.on("request", (r) => {
    if (/\/assets\/chart-setup-[^/]*\.js$/.test(new URL(r.url()).pathname)) chartLoads.push(r.url());
  });
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await signInsChart(p); // Chart.js comes with the overview's charts
  const tag = stamp();
  // backup-sms's figures: 3 days ago 4 delivered (1,000 ms together) and 1 failed, today 2
  // delivered (200 ms); 40 days ago is outside the 30 days.
  const dates = await seedHookCounts("backup-sms", { 3: [4, 1, 1000], 0: [2, 0, 200], 40: [9, 9, 900] });

  try {
    // The list: demo-sms, registered by the local stack, is the active hook.
    await nav(p, "Telephony hooks").click();
    await h1(p).filter({ hasText: "Telephony hooks" }).waitFor();
    const row = (name) => p.getByRole("row").filter({ has: p.getByRole("link", { name, exact: true }) });
    await row("demo-sms").getByText("Active", { exact: true }).waitFor();
    await p.getByText("Active hook: demo-sms. The bridge sends every SMS code through it.").waitFor();
    await row("demo-sms").getByText("X-Hook-Secret", { exact: true }).waitFor();
    const url = await row("demo-sms").locator("code.hook-url").textContent();
    assert.equal(url, `${info.telephony}/hook`);
    await checkA11y(p, "hooks");
    assert.equal(chartLoads.length, 1, "Chart.js is loaded once, with the overview's charts");

    // A second hook on the same demo service (with a secret the service does not know), falling
    // back to demo-sms; the URL checked as typed; the secret written once.
    await p.getByRole("button", { name: "New hook" }).click();
    const form = p.getByRole("region", { name: "New hook" });
    await form.getByLabel("Name", { exact: true }).fill("backup-sms");
    const urlField = form.getByLabel("URL", { exact: true });
    await urlField.fill(`${url}?via=console`);
    await urlField.blur();
    await form.getByText("Enter an https URL (http only on 127.0.0.1 or localhost) without user name, query (?) or fragment (#).").waitFor();
    assert.equal(await urlField.getAttribute("aria-invalid"), "true");
    await urlField.fill(url);
    assert.equal(await urlField.getAttribute("aria-invalid"), "false");
    assert.equal(await form.getByLabel("A header carrying a secret").isChecked(), true);
    await form.getByLabel("Header name").fill("X-Hook-Secret");
    const secret = `not-the-demo-secret-${tag}`;
    const secretField = form.getByLabel("Secret (the header's value)");
    assert.equal(await secretField.getAttribute("type"), "password");
    await secretField.fill(secret);
    await form.getByLabel("Fallback", { exact: true }).selectOption("demo-sms");
    await checkA11y(p, "new-hook");
    await form.getByRole("button", { name: "Create hook" }).click();
    await h1(p).filter({ hasText: "backup-sms" }).waitFor();
    await p.getByRole("status").filter({ hasText: "Hook backup-sms created." }).waitFor();
    assert.match(p.url(), /#\/hooks\/backup-sms$/);
    const settings = p.getByRole("region", { name: "Settings" });
    await settings.locator("dt:text-is('Fallback') + dd").filter({ hasText: "demo-sms" }).waitFor();
    await settings.locator("dt:text-is('Secret') + dd").filter({ hasText: "Stored (never shown)" }).waitFor();
    await p.getByText("Not active: the bridge sends SMS codes through demo-sms.").waitFor();
    assert.ok(!(await p.content()).includes(secret), "the secret is not on the page");
    const created = await callApi(p, "/hooks/backup-sms");
    assert.deepEqual(
      { url: created.body.url, auth: created.body.auth, fallback: created.body.fallback, active: created.body.active },
      { url, auth: { type: "header", name: "X-Hook-Secret", has_secret: true }, fallback: "demo-sms", active: false },
    );

    // Its 30 days: totals as text, a stacked bar chart (Chart.js loaded now), the same figures as
    // a table of 30 days.
    const metrics = p.getByRole("region", { name: "Last 30 days" });
    await metrics.getByText("7 messages: 6 delivered, 1 failed. Average time to deliver: 200 ms.").waitFor();
    assert.equal(await metrics.locator("canvas").count(), 1);
    assert.equal(await metrics.locator("canvas").getAttribute("aria-label"), "Messages per day over the last 30 days: 6 delivered, 1 failed.");
    await drawn(p, [0xe0, 0x44, 0x2f]); // a failed bar
    await drawn(p, [0x17, 0xa8, 0x6b]); // delivered bars
    assert.equal(chartLoads.length, 1, "and not again for the hook's chart");
    const days = metrics.locator("table.metrics-table tbody tr");
    assert.ok((await days.count()) <= 30, "at most 30 days");
    assert.equal(await days.count(), 30, "every one of the 30 days");
    const day = (date) => days.filter({ has: p.locator(`time[datetime="${date}"]`) }).locator("td");
    assert.deepEqual(await day(dates[3]).allTextContents(), ["4", "1", "5"]);
    assert.deepEqual(await day(dates[0]).allTextContents(), ["2", "0", "2"]);
    assert.equal(await day(dates[40]).count(), 0, "not older than 30 days");
    assert.equal(await days.locator("td").filter({ hasText: /^[1-9]/ }).count(), 5, "no other figures (4, 1, 5; 2, 2)");
    await metrics.getByText("Figures per day").click();
    await checkA11y(p, "hook-metrics");

    // Changing how it authenticates without a new secret: the API refuses, the page says why.
    await p.getByRole("button", { name: "Edit", exact: true }).click();
    const edit = p.getByRole("region", { name: "Edit" });
    assert.equal(await edit.getByLabel("Secret (the header's value)").inputValue(), "", "the secret is never filled in");
    await edit.getByText("Leave it empty to keep the stored one.").waitFor();
    await edit.getByLabel("OAuth 2.0 client credentials").check();
    await edit.getByLabel("Token URL").fill(`${info.telephony}/token`);
    await edit.getByLabel("Client ID").fill("bridge");
    await edit.getByText("The hook authenticates differently now: enter its new secret.").waitFor();
    await edit.getByRole("button", { name: "Save changes" }).click();
    const refusal = edit.getByRole("alert").filter({ hasText: "Changing how a hook authenticates needs its new secret: enter it as well." });
    await refusal.waitFor();
    await refusal.getByText("Details: changing how a hook authenticates needs its new secret").waitFor();
    assert.equal(await edit.getByLabel("Client secret").getAttribute("aria-invalid"), "true", "the secret field is marked");
    await checkA11y(p, "hook-edit-refused");
    assert.equal((await callApi(p, "/hooks/backup-sms")).body.version, 1, "unchanged");
    // Back to the header, without a fallback: saved, the stored secret kept.
    await edit.getByLabel("A header carrying a secret").check();
    assert.equal(await edit.getByLabel("Header name").inputValue(), "X-Hook-Secret");
    await edit.getByLabel("Fallback", { exact: true }).selectOption({ label: "None" });
    await edit.getByRole("button", { name: "Save changes" }).click();
    await p.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await settings.locator("dt:text-is('Fallback') + dd").filter({ hasText: "None" }).waitFor();
    await settings.locator("dt:text-is('Version') + dd").filter({ hasText: "2" }).waitFor();
    const changed = await callApi(p, "/hooks/backup-sms");
    assert.equal(changed.body.fallback, undefined);
    assert.equal(changed.body.auth.has_secret, true, "the stored secret is kept");
    assert.equal(changed.etag, '"2"');

    // Activating it replaces demo-sms (the question says so).
    await p.getByRole("button", { name: "Activate", exact: true }).click();
    await dialog(p).getByRole("heading", { name: "Activate backup-sms?" }).waitFor();
    await dialog(p).getByText("The bridge sends every SMS code through backup-sms from now on. It replaces demo-sms, the active hook now.").waitFor();
    await checkA11y(p, "confirm-activate");
    await dialog(p).getByRole("button", { name: "Activate backup-sms" }).click();
    await p.getByRole("status").filter({ hasText: "backup-sms is the active hook now." }).waitFor();
    await h1(p).getByText("Active", { exact: true }).waitFor();
    await p.getByText("This is the active hook: the bridge sends every SMS code through it.").waitFor();
    const active = async () => Object.fromEntries((await callApi(p, "/hooks")).body.hooks.map((h) => [h.name, h.active]));
    assert.deepEqual(await active(), { "backup-sms": true, "demo-sms": false });
    await p.getByRole("link", { name: "All telephony hooks" }).click();
    await h1(p).filter({ hasText: "Telephony hooks" }).waitFor();
    await p.getByText("Active hook: backup-sms.").waitFor();
    await row("backup-sms").getByText("Active", { exact: true }).waitFor();
    await row("demo-sms").getByText("Inactive", { exact: true }).waitFor();

    // The active hook cannot be deleted: the API refuses, the question says why.
    await row("backup-sms").getByRole("link").click();
    await h1(p).filter({ hasText: "backup-sms" }).waitFor();
    await p.getByRole("button", { name: "Delete hook" }).click();
    await dialog(p).getByText("The hook is removed and its secret is scheduled for deletion. This cannot be undone.").waitFor();
    await dialog(p).getByRole("button", { name: "Delete backup-sms" }).click();
    const notDeleted = dialog(p).getByRole("alert").filter({ hasText: "backup-sms is the active hook: activate another hook or deactivate it first." });
    await notDeleted.waitFor();
    await notDeleted.getByText("Details: hook `backup-sms` is the active hook").waitFor();
    await checkA11y(p, "hook-delete-refused");
    await dialog(p).getByRole("button", { name: "Cancel" }).click();
    await dialog(p).waitFor({ state: "detached" });
    assert.equal((await callApi(p, "/hooks/backup-sms")).status, 200, "still there");

    // Back to demo-sms, replacing backup-sms.
    await p.goto(`${consoleUrl()}#/hooks/demo-sms`);
    await h1(p).filter({ hasText: "demo-sms" }).waitFor();
    await p.getByText("Not active: the bridge sends SMS codes through backup-sms.").waitFor();
    await p.getByRole("button", { name: "Activate", exact: true }).click();
    await dialog(p).getByText("It replaces backup-sms, the active hook now.").waitFor();
    await dialog(p).getByRole("button", { name: "Activate demo-sms" }).click();
    await p.getByRole("status").filter({ hasText: "demo-sms is the active hook now." }).waitFor();
    assert.deepEqual(await active(), { "backup-sms": false, "demo-sms": true });

    // Deactivating asks first: cancelled, it stays active; confirmed, no hook is active.
    await p.getByRole("button", { name: "Deactivate", exact: true }).click();
    await dialog(p).getByRole("heading", { name: "Deactivate demo-sms?" }).waitFor();
    await dialog(p).getByText("No SMS codes will be delivered until another hook is activated").waitFor();
    await checkA11y(p, "confirm-deactivate");
    await dialog(p).getByRole("button", { name: "Cancel" }).click();
    await dialog(p).waitFor({ state: "detached" });
    assert.deepEqual(await active(), { "backup-sms": false, "demo-sms": true }, "cancelled: still active");
    await h1(p).getByText("Active", { exact: true }).waitFor();
    await p.getByRole("button", { name: "Deactivate", exact: true }).click();
    await dialog(p).getByRole("button", { name: "Deactivate demo-sms" }).click();
    await p.getByRole("status").filter({ hasText: "demo-sms is deactivated: no hook is active" }).waitFor();
    await h1(p).getByText("Inactive", { exact: true }).waitFor();
    await p.getByText("No hook is active: the bridge delivers no SMS codes until one is activated.").waitFor();
    assert.deepEqual(await active(), { "backup-sms": false, "demo-sms": false });
    // And activated again (no hook to replace).
    await p.getByRole("button", { name: "Activate", exact: true }).click();
    await dialog(p).getByText("No hook is active now. The bridge sends every SMS code through demo-sms from now on.").waitFor();
    await dialog(p).getByRole("button", { name: "Activate demo-sms" }).click();
    await p.getByRole("status").filter({ hasText: "demo-sms is the active hook now." }).waitFor();
    assert.deepEqual(await active(), { "backup-sms": false, "demo-sms": true });

    // Preview for a person (mfa@example.com, a sign-in code), edited, then sent once.
    const preview = p.getByRole("region", { name: "Preview and send" });
    await preview.getByRole("button", { name: "Generate request" }).click();
    await preview.getByText("Enter the person's email or user name.").waitFor();
    await preview.getByLabel("Person").fill("nobody@example.com");
    await preview.getByRole("button", { name: "Generate request" }).click();
    await preview.getByRole("alert").filter({ hasText: "No one has the email or user name nobody@example.com." }).waitFor();
    await preview.getByLabel("Person").fill(info.users.mfa.email);
    await preview.getByLabel("Request type").selectOption("mfa-verification");
    await preview.getByRole("button", { name: "Generate request" }).click();
    const request = preview.getByLabel(`Request for ${info.users.mfa.email} (JSON)`);
    await request.waitFor();
    assert.equal(await preview.getByRole("alert").count(), 0);
    const generated = JSON.parse(await request.inputValue());
    assert.equal(generated.eventType, "com.okta.telephony.provider");
    assert.equal(generated.requestType, "com.okta.user.telephony.mfa-verification");
    assert.equal(generated.data.messageProfile.phoneNumber, "+819012345678");
    const code = generated.data.messageProfile.otpCode;
    assert.match(code, /^\d{6}$/);
    await checkA11y(p, "hook-preview");

    // Not JSON: said as typed, and not sent.
    const inboxBefore = (await smsInbox()).length;
    await request.fill(JSON.stringify(generated, null, 2).replace(/\}\s*$/, ""));
    await preview.getByText("This is not valid JSON").waitFor();
    assert.equal(await request.getAttribute("aria-invalid"), "true");
    await preview.getByRole("button", { name: "Send to demo-sms" }).click();
    assert.equal(await p.evaluate(() => document.activeElement && document.activeElement.name), "request", "back to the request");
    await request.fill("[1, 2]");
    await preview.getByText("The request must be a JSON object").waitFor();
    await preview.getByRole("button", { name: "Send to demo-sms" }).click();
    assert.equal(await preview.getByRole("region", { name: "The hook's answer" }).count(), 0, "nothing sent");
    assert.equal((await smsInbox()).length, inboxBefore, "nothing arrived");

    const text = `Console preview ${tag}: your code is ${code}`;
    generated.data.messageProfile.msgTemplate = text;
    await request.fill(JSON.stringify(generated, null, 2));
    assert.equal(await preview.getByText("This is not valid JSON").count(), 0);
    assert.equal(await request.getAttribute("aria-invalid"), "false");
    await preview.getByRole("button", { name: "Send to demo-sms" }).click();
    const answer = preview.getByRole("region", { name: "The hook's answer" });
    await answer.getByText("Delivered", { exact: true }).waitFor();
    assert.equal(await answer.locator(".http-status").textContent(), "200");
    assert.match(await answer.locator(".millis").textContent(), /^\d[\d,]* ms$/);
    const body = JSON.parse(await answer.locator(".answer-body").textContent());
    const result = body.commands[0].value[0];
    assert.equal(result.status, "SUCCESSFUL");
    await checkA11y(p, "hook-preview-sent");
    const [latest] = await smsInbox();
    assert.deepEqual({ to: latest.to, text: latest.text, transaction: latest.transaction }, { to: "+819012345678", text, transaction: result.transactionId }, "the edited text arrived");
    const inbox = await page("en-US");
    await inbox.goto(`${info.telephony}/`);
    assert.equal(await inbox.locator(".message .text").first().textContent(), text);
    await inbox.context().close();

    // In Japanese.
    await p.getByRole("button", { name: "日本語" }).click();
    await nav(p, "SMS 送信フック").waitFor();
    await p.getByRole("region", { name: "過去 30 日間" }).getByText("過去 30 日間のメッセージはありません。").waitFor();
    await h1(p).getByText("有効", { exact: true }).waitFor();
    await p.getByRole("region", { name: "プレビューと送信" }).getByRole("button", { name: "demo-sms に送信" }).waitFor();
    await p.getByRole("button", { name: "English" }).click();
    await nav(p, "Telephony hooks").waitFor();

    // backup-sms, inactive now, is deleted (after a question).
    await p.goto(`${consoleUrl()}#/hooks/backup-sms`);
    await h1(p).filter({ hasText: "backup-sms" }).waitFor();
    await p.getByRole("button", { name: "Delete hook" }).click();
    await checkA11y(p, "confirm-delete-hook");
    await dialog(p).getByRole("button", { name: "Delete backup-sms" }).click();
    await h1(p).filter({ hasText: "Telephony hooks" }).waitFor();
    await p.getByRole("status").filter({ hasText: "Hook backup-sms deleted." }).waitFor();
    await row("demo-sms").waitFor();
    assert.equal(await row("backup-sms").count(), 0, "gone from the list");
    assert.equal((await callApi(p, "/hooks/backup-sms")).status, 404);

    // The history: demo-sms's from its page, then backup-sms's; every change by the admin.
    await row("demo-sms").getByRole("link").click();
    await h1(p).filter({ hasText: "demo-sms" }).waitFor();
    await p.getByRole("link", { name: "History" }).click();
    await h1(p).filter({ hasText: "Audit trail" }).waitFor();
    assert.equal(await p.getByLabel("Target").inputValue(), "hook:demo-sms");
    const records = (type) => p.locator("li.record").filter({ has: p.locator(".type code", { hasText: new RegExp(`^${type.replace(/\./g, "\\.")}$`) }) });
    const byAdmin = (type) => records(type).filter({ has: p.locator(".actor", { hasText: new RegExp(`^${info.users.admin.email.replace(/\./g, "\\.")}$`) }) });
    await records("hook.activated").first().waitFor();
    assert.equal(await byAdmin("hook.activated").count(), 2, "demo-sms activated twice by the admin");
    assert.equal(await byAdmin("hook.deactivated").count(), 1);
    for (const target of await p.locator("li.record code.target").allTextContents()) assert.equal(target, "hook:demo-sms");
    await byAdmin("hook.deactivated").getByText("Telephony hook deactivated").waitFor();

    await p.goto(`${consoleUrl()}#/audit/target/${encodeURIComponent("hook:backup-sms")}`);
    await h1(p).filter({ hasText: "Audit trail" }).waitFor();
    assert.equal(await p.getByLabel("Target").inputValue(), "hook:backup-sms");
    await records("hook.deleted").first().waitFor();
    const expected = { "hook.created": 1, "hook.updated": 1, "hook.activated": 1, "hook.deleted": 1 };
    for (const [type, n] of Object.entries(expected)) {
      assert.equal(await records(type).count(), n, `${n} × ${type}`);
      assert.equal(await byAdmin(type).count(), n, `${type}: by the admin`);
    }
    assert.equal(await p.locator("li.record").count(), 4, "nothing else on backup-sms");
    await records("hook.deleted").getByText("Telephony hook deleted").waitFor();
    // The change: the fallback taken out.
    await records("hook.updated").getByRole("row").filter({ hasText: "fallback" }).filter({ has: p.locator("del", { hasText: '"demo-sms"' }) }).waitFor();
    assert.ok(!(await p.content()).includes(secret), "no secret in the audit trail");
    await checkA11y(p, "hook-audit");

    assert.deepEqual((await callApi(p, "/hooks")).body.hooks.map((h) => [h.name, h.active]), [["demo-sms", true]], "the stack's hook is active again");
  } finally {
    // Whatever happened above, the stack's demo-sms is the active hook and backup-sms is gone.
    if ((await callApi(p, "/hooks/demo-sms")).body.active !== true) await callApi(p, "/hooks/demo-sms/activate", { method: "POST" });
    const left = await callApi(p, "/hooks/backup-sms");
    if (left.status === 200) await callApi(p, "/hooks/backup-sms", { method: "DELETE", ifMatch: left.etag });
    await p.context().close();
  }
});

test("a viewer sees the telephony hooks, a hook's settings and figures, but no control to change, switch or preview them; the API refuses the viewer's", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.viewer);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  // The overview's charts are for every role.
  await signInsChart(p);
  await nav(p, "Telephony hooks").click();
  await h1(p).filter({ hasText: "Telephony hooks" }).waitFor();
  const demo = p.getByRole("row").filter({ has: p.getByRole("link", { name: "demo-sms", exact: true }) });
  await demo.getByText("Active", { exact: true }).waitFor();
  await p.getByText("Your role may read telephony hooks but not change them.").waitFor();
  assert.equal(await p.getByRole("button", { name: "New hook" }).count(), 0);
  assert.equal(await p.getByRole("textbox").count(), 0, "no form");
  await checkA11y(p, "viewer-hooks");

  await demo.getByRole("link").click();
  await h1(p).filter({ hasText: "demo-sms" }).waitFor();
  await p.getByRole("region", { name: "Settings" }).getByText(`${info.telephony}/hook`, { exact: true }).waitFor();
  const metrics = p.getByRole("region", { name: "Last 30 days" });
  // The stack's sign-ins do not go through the SMS sender: demo-sms has no figures, so no chart.
  await metrics.getByText("No messages in the last 30 days.").waitFor();
  assert.equal(await metrics.locator("canvas").count(), 0, "no empty chart");
  await p.getByRole("link", { name: "History" }).waitFor();
  for (const name of ["Edit", "Activate", "Deactivate", "Delete hook", "Generate request", "Send to demo-sms"]) {
    assert.equal(await p.getByRole("button", { name, exact: true }).count(), 0, `no ${name}`);
  }
  assert.equal(await p.getByRole("region", { name: "Preview and send" }).count(), 0, "no preview");
  assert.equal(await p.getByRole("textbox").count(), 0, "no form");
  await checkA11y(p, "viewer-hook");

  const read = await callApi(p, "/hooks/demo-sms");
  assert.equal(read.status, 200);
  const { url, auth } = read.body;
  const refusals = [
    ["/hooks/demo-sms/activate", { method: "POST" }],
    ["/hooks/demo-sms/deactivate", { method: "POST" }],
    ["/hooks/demo-sms", { method: "PUT", ifMatch: read.etag, body: { url, auth: { type: "header", name: auth.name } } }],
    ["/hooks/demo-sms/preview", { method: "POST", body: { user: info.users.mfa.email } }],
    ["/hooks/demo-sms/send", { method: "POST", body: { request: { eventType: "com.okta.telephony.provider" } } }],
    ["/hooks", { method: "POST", body: { name: "viewer-sms", url, auth: { type: "header", name: "X-Hook-Secret" }, secret: "x" } }],
  ];
  for (const [path, options] of refusals) {
    const answer = await callApi(p, path, options);
    assert.equal(answer.status, 403, `${options.method} ${path}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error, "forbidden");
  }
  const after = await callApi(p, "/hooks/demo-sms");
  assert.equal(after.body.active, true, "still active");
  assert.equal(after.etag, read.etag, "the same version");
  await p.context().close();
});

const FLOW = "high-risk-sign-in-servicenow";
const FLOW_NAME = "A high-risk sign-in opens a ServiceNow incident for the security team";

/** The demo ServiceNow's incidents, newest first. */
async function incidents() {
  const r = await fetch(`${info.servicenow}/records`);
  assert.equal(r.status, 200);
  return r.json();
}

/**
 * The number of incidents once the demo ServiceNow has had no new one for 3 s: the runner has
 * handled the high-risk sign-ins before (every new browser of a person the bridge knows is one,
 * the admin's and the viewer's too, and each opens an incident).
 */
async function settledIncidents() {
  let count = (await incidents()).length;
  for (let still = Date.now(), end = Date.now() + 30_000; Date.now() - still < 3000; ) {
    assert.ok(Date.now() < end, "no new incident for 3 s within 30 s");
    await new Promise((r) => setTimeout(r, 500));
    const n = (await incidents()).length;
    if (n !== count) [count, still] = [n, Date.now()];
  }
  return count;
}

/**
 * A high-risk sign-in (`sign_in.high_risk`): guarded@example.com signs in to the guarded app in a
 * browser of its own, which the app refuses as a new device. The person's first browser ever sets
 * their baseline and is let in; then a second one is refused.
 */
async function highRiskSignIn() {
  const user = info.users.guarded;
  const words = FORM.en;
  for (let i = 0; i < 2; i++) {
    const b = await page("en-US");
    try {
      await b.goto(`${info.api}/sso/${info.guarded_app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/ja")}`);
      await b.waitForURL((url) => url.href.startsWith(info.form));
      await identify(b, user.email);
      await step(b, "password").getByLabel(words.password, { exact: true }).fill(user.password);
      await step(b, "password").getByRole("button", { name: words.signIn }).click();
      const outcome = await Promise.race([
        b.waitForURL(`${info.demo_app}/hc/ja`).then(() => "let in"),
        b.getByRole("alert").filter({ hasText: "This sign-in looks unusual, so it was stopped." }).waitFor().then(() => "refused"),
      ]);
      if (outcome === "refused") return;
    } finally {
      await b.context().close();
    }
  }
  assert.fail("a second browser is refused as a new device");
}

/** The failed runs' ids, as the API lists them now. */
const failedRunIds = async (p) => new Set((await callApi(p, "/workflows/failed-runs", {})).body.runs.map((r) => r.run_id));

/**
 * Makes the demo ServiceNow refuse its next incident, then signs guarded@example.com in from a new
 * browser: the flow's run for that high-risk sign-in fails. Returns the failed run (found through
 * the API, up to 20 s), one that `before` (failed run ids) did not have.
 */
async function failedRunOfHighRiskSignIn(p, before) {
  const failNext = await fetch(`${info.servicenow}/demo/fail-next`, { method: "POST" });
  assert.equal(failNext.status, 200);
  await highRiskSignIn();
  for (const end = Date.now() + 20_000; ; ) {
    const runs = (await callApi(p, "/workflows/failed-runs")).body.runs;
    const run = runs.find((r) => r.flow_id === FLOW && !before.has(r.run_id));
    if (run) return run;
    assert.ok(Date.now() < end, "the run failed within 20 s");
    await p.waitForTimeout(1000);
  }
}

test("workflows: the demo ServiceNow refuses the incident of a high-risk sign-in, the admin replays the failed run from the console and one incident opens; the flow's runs show it succeeded, the audit trail shows the replay; the flow is disabled and enabled again through the UI", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  // The admin's own sign-in (a new browser) may open an incident: counted before.
  const before = await settledIncidents();
  const failedBefore = await failedRunIds(p);

  try {
    await fetch(`${info.servicenow}/demo/fail-next`, { method: "POST" }).then((r) => assert.equal(r.status, 200));
    await highRiskSignIn();

    // The list: the flow, the failed runs (refreshed until the new one shows, up to 20 s), the
    // connection (read only).
    await nav(p, "Workflows").click();
    await h1(p).filter({ hasText: "Workflows" }).waitFor();
    const flows = p.getByRole("region", { name: "Flows" });
    const flowRow = flows.getByRole("row").filter({ has: p.getByRole("link", { name: FLOW_NAME }) });
    await flowRow.getByText(FLOW, { exact: true }).waitFor();
    await flowRow.getByText("sign_in.high_risk", { exact: true }).waitFor();
    await flowRow.getByText("Enabled", { exact: true }).waitFor();
    const connection = p.getByRole("region", { name: "Connections" }).getByRole("row").filter({ hasText: "servicenow" });
    await connection.getByText(info.servicenow, { exact: true }).waitFor();
    await connection.getByText("bridge.integration", { exact: true }).waitFor();
    await connection.getByRole("cell", { name: "Set", exact: true }).waitFor();
    assert.equal(await p.getByRole("textbox").count(), 0, "connections are read only");

    const failed = p.getByRole("region", { name: "Failed runs" });
    let runId;
    for (const end = Date.now() + 20_000; !runId; ) {
      await failed.getByRole("button", { name: "Refresh" }).click();
      await failed.locator("button[aria-busy=true]").waitFor({ state: "detached" });
      const shown = await failed.locator("article[data-run]").evaluateAll((cards) => cards.map((c) => c.dataset.run));
      runId = shown.find((id) => !failedBefore.has(id));
      if (!runId) {
        assert.ok(Date.now() < end, "the failed run shows within 20 s");
        await p.waitForTimeout(1000);
      }
    }
    const run = (await callApi(p, `/workflows/runs/${runId}`)).body;
    assert.deepEqual([run.flow_id, run.status, run.event_type], [FLOW, "failed", "sign_in.high_risk"]);
    const card = failed.getByRole("article", { name: `Run ${runId}` });
    await card.getByRole("link", { name: FLOW_NAME }).waitFor();
    await card.getByText("Failed", { exact: true }).first().waitFor();
    await card.getByText("sign_in.high_risk", { exact: true }).waitFor();
    await card.locator("dt:text-is('Failed step') + dd").filter({ hasText: "incident" }).waitFor();
    await card.getByText("failed (attempts: 1)").waitFor();
    await card.locator(".run-error").filter({ hasText: "HTTP 400" }).filter({ hasText: "the demo was told to fail this call" }).waitFor();
    await checkA11y(p, "workflows");

    // Replayed after a question: the incident opens, the run leaves the failed runs.
    await card.getByRole("button", { name: "Replay", exact: true }).click();
    await dialog(p).getByRole("heading", { name: "Replay this run?" }).waitFor();
    await dialog(p).getByText(`The failed steps of this run of ${FLOW_NAME} (from step incident) will be called again, once each`).waitFor();
    await checkA11y(p, "confirm-replay");
    await dialog(p).getByRole("button", { name: "Replay now" }).click();
    await failed.getByRole("status").filter({ hasText: `Replayed: the run of ${FLOW_NAME} succeeded.` }).waitFor();
    await dialog(p).waitFor({ state: "detached" });
    await card.waitFor({ state: "detached" });
    assert.equal((await callApi(p, `/workflows/runs/${runId}`)).body.status, "succeeded");
    assert.ok(!(await failedRunIds(p)).has(runId), "not a failed run any more");
    await failed.getByRole("button", { name: "Refresh" }).click();
    await failed.locator("button[aria-busy=true]").waitFor({ state: "detached" });
    await failed.locator("article[data-run]").first().or(failed.getByText("No failed runs.")).first().waitFor();
    assert.equal(await failed.getByRole("article", { name: `Run ${runId}` }).count(), 0, "gone from the failed runs");

    // Exactly one new incident for guarded@example.com: the replay's, for the run's event.
    const after = await incidents();
    const fresh = after.slice(0, after.length - before);
    const theirs = fresh.filter((r) => String(r.fields.short_description).includes(info.users.guarded.email));
    assert.equal(theirs.length, 1, `one new incident for guarded@example.com: ${JSON.stringify(fresh)}`);
    assert.equal(theirs[0].fields.correlation_id, run.event_id, "for the run's event");
    assert.equal(theirs[0].table, "incident");

    // The flow's page: its settings and its runs, the replayed one succeeded.
    await flows.getByRole("link", { name: FLOW_NAME }).click();
    await h1(p).filter({ hasText: FLOW_NAME }).waitFor();
    assert.match(p.url(), new RegExp(`#/workflows/${FLOW}$`));
    const settings = p.getByRole("region", { name: "Settings" });
    await settings.locator("dt:text-is('Trigger') + dd").filter({ hasText: "sign_in.high_risk" }).waitFor();
    await settings.getByText("up to 4 attempts, 2 s apart").waitFor();
    await settings.locator("pre").filter({ hasText: '"short_description": "High-risk sign-in: {{user.email}}"' }).waitFor();
    const runs = p.getByRole("region", { name: "Runs" });
    const replayedCard = runs.getByRole("article", { name: `Run ${runId}` });
    await replayedCard.getByText("Succeeded", { exact: true }).waitFor();
    await replayedCard.getByText("succeeded (attempts: 1)").waitFor();
    assert.equal(await replayedCard.getByRole("button", { name: "Replay" }).count(), 0);
    await checkA11y(p, "workflow");

    // Disabled, then enabled again, each asked first; the version goes up each time.
    const version = async () => Number(await settings.locator("dt:text-is('Version') + dd").textContent());
    const v = await version();
    assert.equal(v, (await callApi(p, `/workflows/flows/${FLOW}`)).body.version);
    await p.getByRole("button", { name: "Disable", exact: true }).click();
    await dialog(p).getByRole("heading", { name: `Disable ${FLOW_NAME}?` }).waitFor();
    await dialog(p).getByText("Runs stop until it is enabled again").waitFor();
    await checkA11y(p, "confirm-disable-flow");
    await dialog(p).getByRole("button", { name: "Disable flow" }).click();
    await p.getByRole("status").filter({ hasText: `${FLOW_NAME} is disabled (version ${v + 1}): no runs start until it is enabled again.` }).waitFor();
    await h1(p).getByText("Disabled", { exact: true }).waitFor();
    await settings.locator("dt:text-is('Version') + dd").filter({ hasText: String(v + 1) }).waitFor();
    await p.getByText("Disabled: no runs start until it is enabled again.").waitFor();
    assert.equal((await callApi(p, `/workflows/flows/${FLOW}`)).body.enabled, false);
    await p.getByRole("button", { name: "Enable", exact: true }).click();
    await dialog(p).getByRole("heading", { name: `Enable ${FLOW_NAME}?` }).waitFor();
    await dialog(p).getByRole("button", { name: "Enable flow" }).click();
    await p.getByRole("status").filter({ hasText: `${FLOW_NAME} is enabled (version ${v + 2}).` }).waitFor();
    await h1(p).getByText("Enabled", { exact: true }).waitFor();
    assert.equal(await version(), v + 2);
    const enabled = await callApi(p, `/workflows/flows/${FLOW}`);
    assert.deepEqual([enabled.body.enabled, enabled.etag], [true, `"${v + 2}"`]);

    // Changed behind the page's back (disabled and enabled again): disabling the version read is
    // refused, the page says so and shows the flow as it is now.
    const off = await callApi(p, `/workflows/flows/${FLOW}/disable`, { method: "POST", ifMatch: enabled.etag });
    assert.equal(off.status, 200);
    assert.equal((await callApi(p, `/workflows/flows/${FLOW}/enable`, { method: "POST", ifMatch: off.etag })).status, 200);
    await p.getByRole("button", { name: "Disable", exact: true }).click();
    await dialog(p).getByRole("button", { name: "Disable flow" }).click();
    await dialog(p).getByRole("alert").filter({ hasText: "Someone else changed this after you opened it." }).waitFor();
    await settings.locator("dt:text-is('Version') + dd").filter({ hasText: String(v + 4) }).waitFor();
    await dialog(p).getByRole("button", { name: "Cancel" }).click();
    await dialog(p).waitFor({ state: "detached" });
    assert.equal((await callApi(p, `/workflows/flows/${FLOW}`)).body.enabled, true, "still enabled");

    // The audit trail: the flow's changes, and the replay, each by the admin.
    const records = (type) => p.locator("li.record").filter({ has: p.locator(".type code", { hasText: new RegExp(`^${type.replace(/\./g, "\\.")}$`) }) });
    const byAdmin = (type) => records(type).filter({ has: p.locator(".actor", { hasText: new RegExp(`^${info.users.admin.email.replace(/\./g, "\\.")}$`) }) });
    await p.getByRole("link", { name: "History" }).click();
    await h1(p).filter({ hasText: "Audit trail" }).waitFor();
    assert.equal(await p.getByLabel("Target").inputValue(), `flow:${FLOW}`);
    await records("admin.flow.disabled").first().waitFor();
    assert.ok((await byAdmin("admin.flow.disabled").count()) >= 2);
    await byAdmin("admin.flow.enabled").first().getByText("Workflow enabled").waitFor();
    await p.goto(`${consoleUrl()}#/audit/target/${encodeURIComponent(`run:${runId}`)}`);
    await h1(p).filter({ hasText: "Audit trail" }).waitFor();
    await records("admin.run.replayed").first().waitFor();
    assert.equal(await byAdmin("admin.run.replayed").count(), 1, "replayed once, by the admin");
    await byAdmin("admin.run.replayed").getByText("Workflow run replayed").waitFor();
    await byAdmin("admin.run.replayed").getByRole("row").filter({ hasText: "status" }).filter({ has: p.locator("ins", { hasText: '"succeeded"' }) }).waitFor();
    await checkA11y(p, "run-audit");
    // The type is one of the audit trail's filters.
    await p.getByLabel("Type").selectOption("admin.run.replayed");
  } finally {
    // Whatever happened above, the flow is enabled and the demo ServiceNow fails nothing more.
    const flow = await callApi(p, `/workflows/flows/${FLOW}`);
    if (flow.body && flow.body.enabled === false) await callApi(p, `/workflows/flows/${FLOW}/enable`, { method: "POST", ifMatch: flow.etag });
    await p.context().close();
  }
});

test("a viewer sees the workflows, a failed run and a flow's runs, but no control to replay a run or to enable or disable a flow; the API refuses the viewer's", async () => {
  const p = await page("en-US");
  await signIn(p, info.users.viewer);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  await settledIncidents();
  // A failed run to look at: the demo ServiceNow refuses the incident of a high-risk sign-in.
  const run = await failedRunOfHighRiskSignIn(p, await failedRunIds(p));

  await nav(p, "Workflows").click();
  await h1(p).filter({ hasText: "Workflows" }).waitFor();
  await p.getByText("Your role may read workflows but not change them or replay runs.").waitFor();
  await p.getByRole("region", { name: "Flows" }).getByRole("link", { name: FLOW_NAME }).waitFor();
  const card = p.getByRole("region", { name: "Failed runs" }).getByRole("article", { name: `Run ${run.run_id}` });
  await card.getByText("failed (attempts: 1)").waitFor();
  await p.getByRole("region", { name: "Connections" }).getByRole("row").filter({ hasText: "servicenow" }).waitFor();
  assert.equal(await p.getByRole("button", { name: "Replay" }).count(), 0, "no Replay");
  await checkA11y(p, "viewer-workflows");

  await card.getByRole("link", { name: FLOW_NAME }).click();
  await h1(p).filter({ hasText: FLOW_NAME }).waitFor();
  await p.getByRole("region", { name: "Runs" }).getByRole("article", { name: `Run ${run.run_id}` }).getByText("Failed", { exact: true }).first().waitFor();
  await p.getByRole("link", { name: "History" }).waitFor();
  for (const name of ["Replay", "Enable", "Disable"]) assert.equal(await p.getByRole("button", { name, exact: true }).count(), 0, `no ${name}`);
  await checkA11y(p, "viewer-workflow");

  const flow = await callApi(p, `/workflows/flows/${FLOW}`);
  assert.equal(flow.status, 200);
  for (const [path, options] of [
    [`/workflows/runs/${run.run_id}/replay`, { method: "POST" }],
    [`/workflows/flows/${FLOW}/disable`, { method: "POST", ifMatch: flow.etag }],
  ]) {
    const answer = await callApi(p, path, options);
    assert.equal(answer.status, 403, `${options.method} ${path}: ${JSON.stringify(answer.body)}`);
    assert.equal(answer.body.error, "forbidden");
  }
  assert.equal((await callApi(p, `/workflows/runs/${run.run_id}`)).body.status, "failed", "still failed");
  assert.equal((await callApi(p, `/workflows/flows/${FLOW}`)).etag, flow.etag, "the same version");
  await p.context().close();
});

test("an admin invites a person in Japanese and sends the invitation again; the person signs in with the mailed temporary password, chooses their own and lands in the app", async () => {
  const p = await page("en-US");
  const email = `invited.${stamp()}@example.com`;
  await signIn(p, info.users.admin);
  await nav(p, "People").click();
  const form = p.getByRole("form", { name: "Invite a person" });
  await form.getByLabel("Email").fill("taro@corp.example");
  await form.getByRole("button", { name: "Send invitation" }).click();
  await p.getByRole("alert").filter({ hasText: /organisation/ }).waitFor();
  await form.getByLabel("Email").fill(email);
  await form.getByLabel(/^Name/).fill("招待 花子");
  await form.getByLabel("Language of the invitation").selectOption("ja");
  await checkA11y(p, "people-invite");
  await form.getByRole("button", { name: "Send invitation" }).click();
  await h1(p).filter({ hasText: email }).waitFor();
  await p.getByRole("status").filter({ hasText: `${email} is invited` }).waitFor();
  await p.getByText("Invited: not signed in yet").waitFor();
  const first = (await emailTo(p, info, email, "CustomMessage_AdminCreateUser")).code;

  // Sent again: a new temporary password.
  await p.getByRole("button", { name: "Send the invitation again" }).click();
  await dialog(p).getByRole("heading", { name: `Send ${email}'s invitation again?` }).waitFor();
  await dialog(p).getByRole("button", { name: "Send the invitation again" }).click();
  await p.getByRole("status").filter({ hasText: "was sent again" }).waitFor();
  let second = first;
  for (let i = 0; i < 50 && second === first; i++) {
    second = (await emailTo(p, info, email, "CustomMessage_AdminCreateUser")).code;
    if (second === first) await new Promise((r) => setTimeout(r, 100));
  }
  assert.notEqual(second, first);

  // The person, in a browser of their own: the mailed password, then a password of their own.
  const q = await page("ja-JP");
  await q.goto(`${info.demo_app}/hc/ja`);
  await q.waitForURL((url) => url.href.startsWith(info.form));
  await identify(q, email);
  await step(q, "password").getByLabel("パスワード", { exact: true }).fill(second);
  await step(q, "password").getByRole("button", { name: "サインイン" }).click();
  await step(q, "new-password").getByLabel("新しいパスワード", { exact: true }).fill("Invited-Passw0rd-2026");
  await step(q, "new-password").getByLabel("新しいパスワード（確認）").fill("Invited-Passw0rd-2026");
  await step(q, "new-password").getByRole("button").last().click();
  await q.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await q.locator("#who").textContent(), "Signed in as 招待 花子");
  await q.context().close();
  await p.reload();
  await h1(p).filter({ hasText: email }).waitFor();
  assert.equal(await p.getByRole("button", { name: "Send the invitation again" }).count(), 0, "taken up: nothing to send again");
  await p.context().close();
});

test("an operator signs a person out everywhere, deactivates and activates the telephony hook and replays a failed run through the UI, may reset the credentials of people without a console role but not an admin's, sees no control to change apps, hooks, flows or people, and the API refuses the operator's changes", async () => {
  const p = await page("en-US");
  const person = info.users.hanako;
  let hanako;
  try {
    await signIn(p, info.users.operator);
    await h1(p).filter({ hasText: "Overview" }).waitFor();
    await p.getByRole("region", { name: "You" }).getByText("Operator", { exact: true }).waitFor();

    // A person with a live bridge session (a browser of her own, signed in to the console she has
    // no role for): the app opens without the form.
    hanako = await page("en-US");
    await signIn(hanako, person, { sms: false });
    await hanako.getByRole("heading", { name: "You have no access to the console" }).waitFor();
    const sso = `${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/en-us")}`;
    await hanako.goto(sso);
    await hanako.waitForURL(`${info.demo_app}/hc/en-us`);
    // The demo OpenID Connect app, from that session: it keeps her signed in (a refresh token).
    await hanako.goto(`${info.oidc_app}/`);
    await hanako.waitForURL(`${info.oidc_app}/`);

    // Someone with a second factor and no console role: the operator may reset it (the helpdesk's
    // action); an admin's, not (the API refuses it too, below).
    await p.goto(`${consoleUrl()}#/people/${encodeURIComponent(info.users.mfa.email)}`);
    await p.locator("dt:text-is('Second factors') + dd").filter({ hasText: "Text message (SMS)" }).waitFor();
    await p.getByRole("button", { name: "Reset second factors" }).waitFor();
    await p.goto(`${consoleUrl()}#/people/${encodeURIComponent(info.users.admin.email)}`);
    await p.locator("dt:text-is('Console role') + dd").filter({ hasText: "Admin" }).waitFor();
    await p.locator("dt:text-is('Second factors') + dd").filter({ hasText: "Text message (SMS)" }).waitFor();
    for (const name of ["Reset second factors", "Require a new password"]) assert.equal(await p.getByRole("button", { name, exact: true }).count(), 0, `no ${name} for an admin`);

    // Her page: the operator may sign her out everywhere, but not disable her or give her a role.
    await p.goto(`${consoleUrl()}#/people/${encodeURIComponent(person.email)}`);
    await h1(p).filter({ hasText: person.email }).waitFor();
    await p.getByRole("region", { name: "Live sessions" }).getByRole("table").waitFor();
    for (const name of ["Disable", "Enable", "Change role"]) assert.equal(await p.getByRole("button", { name, exact: true }).count(), 0, `no ${name}`);
    await p.getByRole("button", { name: "Require a new password", exact: true }).waitFor();
    assert.equal(await p.getByLabel("New console role").count(), 0, "no role form");
    // The app that keeps her signed in: signed out of it from its row (asked first); the app's
    // refresh token is refused from then on.
    const connected = p.getByRole("region", { name: "Apps that keep them signed in" });
    await connected.getByRole("cell", { name: "Demo OpenID Connect app", exact: true }).waitFor();
    await connected.getByRole("button", { name: "Sign out of this app: Demo OpenID Connect app" }).click();
    await dialog(p).getByRole("heading", { name: `Sign ${person.email} out of Demo OpenID Connect app?` }).waitFor();
    await dialog(p).getByRole("button", { name: "Sign out of this app" }).click();
    await p.getByRole("status").filter({ hasText: `${person.email} is signed out of Demo OpenID Connect app.` }).waitFor();
    await connected.getByText("No app keeps them signed in.").waitFor();
    await hanako.goto(`${info.oidc_app}/`);
    await hanako.getByRole("link", { name: "Refresh tokens" }).click();
    assert.match(await hanako.locator("#error").textContent(), /^invalid_grant: /);
    // One session ended from its row: that browser's next app opens the form.
    await p.getByRole("region", { name: "Live sessions" }).getByRole("button", { name: /^Sign out: Password, since / }).click();
    await dialog(p).getByRole("heading", { name: `Sign ${person.email} out of this session?` }).waitFor();
    await dialog(p).getByText(/^Password, since .+: the browser holding it signs in again/).waitFor();
    await checkA11y(p, "confirm-end-session");
    await dialog(p).getByRole("button", { name: "Sign out", exact: true }).click();
    await p.getByRole("status").filter({ hasText: `${person.email} is signed out of that session.` }).waitFor();
    await p.getByText("No live sessions.").waitFor();
    await hanako.goto(sso);
    await hanako.waitForURL((url) => url.href.startsWith(info.form));
    // Signed in again on that form, for the rest.
    await identify(hanako, person.email);
    await step(hanako, "password").getByLabel("Password", { exact: true }).fill(person.password);
    await step(hanako, "password").getByRole("button", { name: "Sign in" }).click();
    await hanako.waitForURL(`${info.demo_app}/hc/en-us`);
    await p.reload();
    await p.getByRole("region", { name: "Live sessions" }).getByRole("table").waitFor();
    await p.getByRole("button", { name: "Sign out everywhere" }).click();
    await dialog(p).getByRole("heading", { name: `Sign ${person.email} out everywhere?` }).waitFor();
    await dialog(p).getByRole("button", { name: "Sign out everywhere" }).click();
    await p.getByRole("status").filter({ hasText: `${person.email} is signed out everywhere.` }).waitFor();
    await p.getByText("No live sessions.").waitFor();
    // Her session is over: the app's sign-in shows the form again.
    await hanako.goto(sso);
    await hanako.waitForURL((url) => url.href.startsWith(info.form));

    // The telephony hooks: no new hook, no edit, delete or preview; demo-sms deactivated (no hook
    // is active then) and activated again, each asked first.
    await nav(p, "Telephony hooks").click();
    await h1(p).filter({ hasText: "Telephony hooks" }).waitFor();
    await p.getByText("Your role may activate and deactivate hooks but not change them.").waitFor();
    const demo = p.getByRole("row").filter({ has: p.getByRole("link", { name: "demo-sms", exact: true }) });
    await demo.getByText("Active", { exact: true }).waitFor();
    assert.equal(await p.getByRole("button", { name: "New hook" }).count(), 0);
    await demo.getByRole("link").click();
    await h1(p).filter({ hasText: "demo-sms" }).waitFor();
    await p.getByRole("button", { name: "Deactivate", exact: true }).waitFor();
    for (const name of ["Edit", "Delete hook", "Generate request", "Send to demo-sms"]) {
      assert.equal(await p.getByRole("button", { name, exact: true }).count(), 0, `no ${name}`);
    }
    assert.equal(await p.getByRole("region", { name: "Preview and send" }).count(), 0, "no preview");
    assert.equal(await p.getByRole("textbox").count(), 0, "no form");
    await checkA11y(p, "operator-hook");
    await p.getByRole("button", { name: "Deactivate", exact: true }).click();
    await dialog(p).getByRole("button", { name: "Deactivate demo-sms" }).click();
    await p.getByRole("status").filter({ hasText: "demo-sms is deactivated: no hook is active" }).waitFor();
    await h1(p).getByText("Inactive", { exact: true }).waitFor();
    assert.equal((await callApi(p, "/hooks/demo-sms")).body.active, false);
    await p.getByRole("button", { name: "Activate", exact: true }).click();
    await dialog(p).getByRole("button", { name: "Activate demo-sms" }).click();
    await p.getByRole("status").filter({ hasText: "demo-sms is the active hook now." }).waitFor();
    await h1(p).getByText("Active", { exact: true }).waitFor();
    assert.equal((await callApi(p, "/hooks/demo-sms")).body.active, true);

    // Workflows: a failed run (the demo ServiceNow refuses the incident of a high-risk sign-in;
    // the operator's and her sign-ins above may open incidents first), replayed from the list.
    await settledIncidents();
    const run = await failedRunOfHighRiskSignIn(p, await failedRunIds(p));
    await nav(p, "Workflows").click();
    await h1(p).filter({ hasText: "Workflows" }).waitFor();
    await p.getByText("Your role may replay failed runs but not change flows.").waitFor();
    const failed = p.getByRole("region", { name: "Failed runs" });
    const card = failed.getByRole("article", { name: `Run ${run.run_id}` });
    await card.getByText("failed (attempts: 1)").waitFor();
    await card.getByRole("button", { name: "Replay", exact: true }).click();
    await dialog(p).getByRole("heading", { name: "Replay this run?" }).waitFor();
    await dialog(p).getByRole("button", { name: "Replay now" }).click();
    await failed.getByRole("status").filter({ hasText: `Replayed: the run of ${FLOW_NAME} succeeded.` }).waitFor();
    await card.waitFor({ state: "detached" });
    assert.equal((await callApi(p, `/workflows/runs/${run.run_id}`)).body.status, "succeeded");
    const opened = (await incidents()).filter((r) => r.fields.correlation_id === run.event_id);
    assert.equal(opened.length, 1, "one incident for the run's event");
    // The flow's page: the replayed run succeeded; no control to enable or disable the flow.
    await p.getByRole("region", { name: "Flows" }).getByRole("link", { name: FLOW_NAME }).click();
    await h1(p).filter({ hasText: FLOW_NAME }).waitFor();
    const replayed = p.getByRole("region", { name: "Runs" }).getByRole("article", { name: `Run ${run.run_id}` });
    await replayed.getByText("Succeeded", { exact: true }).waitFor();
    await p.getByText("Your role may replay failed runs but not change flows.").waitFor();
    for (const name of ["Enable", "Disable"]) assert.equal(await p.getByRole("button", { name, exact: true }).count(), 0, `no ${name}`);

    // Apps: read only.
    await nav(p, "Apps").click();
    await p.getByRole("row").filter({ hasText: info.app_id }).waitFor();
    await p.getByText("Your role may read apps but not change them.").first().waitFor();
    assert.equal(await p.getByRole("button", { name: "New app" }).count(), 0);
    await p.getByRole("link", { name: "demo-tool" }).click();
    await h1(p).filter({ hasText: "Demo Tool" }).waitFor();
    await p.getByText("Kind settings").waitFor();
    for (const name of ["Edit", "Delete app", "Set a new secret"]) assert.equal(await p.getByRole("button", { name }).count(), 0, `no ${name}`);

    // The API refuses every other change.
    const app = await callApi(p, "/apps/demo-tool");
    const { id: _, version, has_secret, ...settings } = app.body;
    const hook = await callApi(p, "/hooks/demo-sms");
    const flow = await callApi(p, `/workflows/flows/${FLOW}`);
    const who = `/people/${encodeURIComponent(person.email)}`;
    const refusals = [
      ["/apps/demo-tool", { method: "PUT", ifMatch: app.etag, body: { ...settings, name: "Operator was here" } }],
      ["/apps", { method: "POST", body: { id: "operator-app", name: "x", target: { kind: "discourse", forum_url: "https://f.example.com" }, allowed_origins: ["https://f.example.com"], generate_secret: true } }],
      ["/apps/demo-tool", { method: "DELETE", ifMatch: app.etag }],
      ["/keys/rotate", { method: "POST", body: { alg: "ES256" } }],
      ["/hooks/demo-sms", { method: "PUT", ifMatch: hook.etag, body: { url: hook.body.url, auth: { type: "header", name: hook.body.auth.name } } }],
      [`/workflows/flows/${FLOW}/disable`, { method: "POST", ifMatch: flow.etag }],
      [`${who}/disable`, { method: "POST" }],
      [`${who}/role`, { method: "PUT", body: { role: "operator" } }],
      [`/people/${encodeURIComponent(info.users.admin.email)}/factors/reset`, { method: "POST" }],
      [`/people/${encodeURIComponent(info.users.admin.email)}/password/reset`, { method: "POST" }],
    ];
    for (const [path, options] of refusals) {
      const answer = await callApi(p, path, options);
      assert.equal(answer.status, 403, `${options.method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.equal(answer.body.error, "forbidden");
    }
    assert.equal((await callApi(p, "/apps/demo-tool")).etag, app.etag, "the app unchanged");
    assert.equal((await callApi(p, "/hooks/demo-sms")).etag, hook.etag, "the hook unchanged");
    assert.equal((await callApi(p, `/workflows/flows/${FLOW}`)).etag, flow.etag, "the flow unchanged");
    const after = (await callApi(p, who)).body;
    assert.deepEqual([after.enabled, after.role ?? null], [true, null], "she is still enabled, without a role");
  } finally {
    // Whatever happened above, the stack's demo-sms is the active hook.
    if ((await callApi(p, "/hooks/demo-sms")).body.active !== true) await callApi(p, "/hooks/demo-sms/activate", { method: "POST" });
    if (hanako) await hanako.context().close();
    await p.context().close();
  }
});

test("on a phone (375x740) the console fits the screen: no sideways scrolling", async () => {
  const p = await page("en-US", { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  await signIn(p, info.users.admin);
  await h1(p).filter({ hasText: "Overview" }).waitFor();
  const fits = () => p.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth);
  // The overview with its charts, their tables open: the tables' columns fit the phone too.
  const daily = p.getByRole("region", { name: "Last 30 days" });
  await signInsChart(p);
  for (const summary of await daily.getByText("Figures per day").all()) await summary.click();
  await daily.locator("table.metrics-table").first().waitFor();
  await p.getByRole("region", { name: "Latest changes" }).getByRole("table").waitFor();
  assert.ok(await fits(), `the overview fits: ${await p.evaluate(() => document.documentElement.scrollWidth)} px wide`);
  assert.ok(await p.evaluate(() => [...document.querySelectorAll(".series .overflow-auto")].every((box) => box.scrollWidth <= box.clientWidth)), "the charts' tables fit");
  assert.ok(await p.evaluate(() => [...document.querySelectorAll("figure.chart canvas")].every((c) => c.getBoundingClientRect().right <= document.documentElement.clientWidth)), "the charts fit");
  await checkA11y(p, "phone-overview");
  await nav(p, "Apps").click();
  await p.getByRole("table").waitFor();
  await p.getByRole("row").filter({ hasText: info.app_id }).waitFor();
  assert.ok(await fits(), `the apps page fits: ${await p.evaluate(() => document.documentElement.scrollWidth)} px wide`);
  // Nor does the table scroll inside its box: its columns fit the phone.
  assert.ok(await p.evaluate(() => [...document.querySelectorAll(".overflow-auto")].every((box) => box.scrollWidth <= box.clientWidth)), "the apps table fits");
  await checkA11y(p, "phone-apps");
  const routes = [
    ["#/apps/demo-tool", "Demo Tool"],
    ["#/keys", "Signing keys"],
    ["#/consent", "Consent documents"],
    ["#/audit", "Audit trail"],
    [`#/people/${encodeURIComponent(info.users.admin.email)}`, info.users.admin.email],
    ["#/orgs", "Organisations"],
    [`#/orgs/${info.org_id}`, "Example Corp"],
    ["#/hooks", "Telephony hooks"],
    ["#/workflows", "Workflows"],
    [`#/workflows/${FLOW}`, FLOW_NAME],
    ["#/hooks/demo-sms", "demo-sms"],
  ];
  for (const [route, heading] of routes) {
    await p.goto(`${consoleUrl()}${route}`);
    await h1(p).filter({ hasText: heading }).waitFor();
    await p.locator("[aria-busy=true]").first().waitFor({ state: "detached" }).catch(() => {});
    assert.ok(await fits(), `${route} fits`);
    await shot(p, `phone-${route.replace(/[^a-z]/g, "")}`);
  }
  // A hook's preview, sent, and the hook's answer fit as well; so does the hooks table.
  const preview = p.getByRole("region", { name: "Preview and send" });
  await preview.getByLabel("Person").fill(info.users.mfa.email);
  await preview.getByRole("button", { name: "Generate request" }).click();
  await preview.getByLabel(`Request for ${info.users.mfa.email} (JSON)`).waitFor();
  await preview.getByRole("button", { name: "Send to demo-sms" }).click();
  await preview.getByRole("region", { name: "The hook's answer" }).getByText("Delivered", { exact: true }).waitFor();
  assert.ok(await fits(), `a hook's preview and answer fit: ${await p.evaluate(() => document.documentElement.scrollWidth)} px wide`);
  await checkA11y(p, "phone-hook-preview");
  await nav(p, "Telephony hooks").click();
  await p.getByRole("row").filter({ hasText: "demo-sms" }).waitFor();
  assert.ok(await p.evaluate(() => [...document.querySelectorAll(".overflow-auto")].every((box) => box.scrollWidth <= box.clientWidth)), "the hooks table fits");
  // The workflows' tables (flows, connections) and the failed runs' cards fit as well.
  await nav(p, "Workflows").click();
  await p.getByRole("region", { name: "Connections" }).getByRole("row").filter({ hasText: "servicenow" }).waitFor();
  await p.getByRole("region", { name: "Failed runs" }).locator("[aria-busy=true]").first().waitFor({ state: "detached" });
  assert.ok(await fits(), `the workflows page fits: ${await p.evaluate(() => document.documentElement.scrollWidth)} px wide`);
  assert.ok(await p.evaluate(() => [...document.querySelectorAll(".overflow-auto")].every((box) => box.scrollWidth <= box.clientWidth)), "the workflows tables fit");
  await checkA11y(p, "phone-workflows");
  await p.context().close();
});
