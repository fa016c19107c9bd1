// Browser tests of consent: the operator publishes documents with `bridge-admin consent` and in
// the console; a new person ticks them on the sign-up form (required ones must be); an existing
// person is asked at their next sign-in, refused when they decline, and asked again when a new
// version of the terms is published. Its own stack: publishing required terms changes every
// sign-in after it. The tests run in order: the console's starts from what the first left.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { callConsoleApi, consoleA11y, emailTo, identify, root, shot, signInToConsole, startStack, step, watchCsp } from "./stack.mjs";

let info;
let browser;
let stop;

before(async () => {
  // At 0 the login function reads the documents on every sign-in: a version published here is
  // asked for at once (60 s by default, as for apps).
  ({ info, browser, stop } = await startStack({ env: { APPS_TTL_SECONDS: "0" } }));
});

after(async () => {
  if (stop) await stop();
});

async function page(locale) {
  const context = await browser.newContext({ locale, extraHTTPHeaders: { "Accept-Language": locale }, reducedMotion: "reduce" });
  return watchCsp(await context.newPage());
}

async function openForm(p, path) {
  await p.goto(`${info.demo_app}${path}`);
  await p.waitForURL((url) => url.href.startsWith(info.form));
}

/** Runs `bridge-admin consent ...` against the local stack; its output, parsed. */
function consent(...args) {
  const admin = join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "bridge-admin");
  const env = { ...process.env, AWS_ENDPOINT_URL: info.moto, AWS_REGION: info.region, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local",
                TABLE_NAME: info.table_name, USER_POOL_ID: info.user_pool_id };
  const out = execFileSync(admin, ["consent", ...args], { env, encoding: "utf8" }).trim();
  // `list` and `export` print JSON lines; the others one JSON document.
  return ["list", "export"].includes(args[0]) ? out.split("\n").filter(Boolean).map((l) => JSON.parse(l)) : JSON.parse(out);
}

/** Publishes version `version` of the terms: required from the first (later versions inherit it). */
function publishTerms(version) {
  const published = consent("publish", "terms", ...(version === 1 ? ["--required"] : []), "--title-ja", "利用規約", "--title-en", "Terms of Service",
    "--url-ja", `https://acme.example.com/ja/terms/v${version}`, "--url-en", `https://acme.example.com/en/terms/v${version}`);
  assert.equal(published.version, version);
  assert.equal(published.required, true);
}

/** Signs in with the password on the form; leaves the page at whatever comes next. */
async function signIn(p, user) {
  await identify(p, user.email);
  await step(p, "password").getByLabel(/^(Password|パスワード)$/).fill(user.password);
  await step(p, "password").getByRole("button", { name: /Sign in|サインイン/ }).click();
}

test("consent: sign-up requires the terms in Japanese; an existing person is asked at their next sign-in, refused when they decline, and asked again for a new version", async () => {
  publishTerms(1);
  consent("publish", "marketing", "--title-ja", "お知らせメールの受け取り", "--title-en", "Product news by email",
    "--url-ja", "https://acme.example.com/ja/news", "--url-en", "https://acme.example.com/en/news");

  // A new person: the documents on the sign-up form, the terms required.
  const p = await page("ja-JP");
  await openForm(p, "/hc/ja");
  await step(p, "identify").getByRole("button", { name: "アカウントを作成" }).click();
  const form = step(p, "sign-up");
  const email = `kaori.${Date.now()}@example.com`;
  await form.getByLabel("メールアドレス").fill(email);
  await form.getByLabel("パスワード").fill("Kaori-Passw0rd!");
  await form.getByLabel("お名前").fill("鈴木 かおり");
  const terms = form.getByRole("checkbox", { name: /利用規約に同意します/ });
  await terms.waitFor();
  assert.equal(await form.getByRole("link", { name: "読む" }).first().getAttribute("href"), "https://acme.example.com/ja/terms/v1");
  await form.getByRole("checkbox", { name: /お知らせメールの受け取り（任意）/ }).check();
  await form.getByRole("button", { name: "アカウントを作成" }).click();
  await p.getByRole("alert").filter({ hasText: "続行するには、必須の規約に同意してください。" }).waitFor();
  await terms.check();
  await shot(p, "ja-sign-up-consent");
  await form.getByRole("button", { name: "アカウントを作成" }).click();
  await step(p, "confirm").waitFor();
  const mail = await emailTo(p, info, email, "CustomMessage_SignUp");
  await step(p, "confirm").getByLabel("確認コード").fill(mail.code);
  await step(p, "confirm").getByRole("button", { name: "確認してサインイン" }).click();
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#who").textContent(), "Signed in as 鈴木 かおり");
  await p.context().close();
  const kaori = consent("show", email);
  assert.deepEqual(kaori.records.map((r) => [r.document, r.version, r.accepted, r.via]).sort(),
    [["marketing", 1, true, "sign_up"], ["terms", 1, true, "sign_up"]]);

  // An existing person: asked at their next sign-in, before the app; declining is refused.
  const hanako = info.users.hanako;
  const q = await page("en-US");
  await openForm(q, "/hc/en-us");
  await signIn(q, hanako);
  const asked = step(q, "consent");
  await asked.getByRole("checkbox", { name: /I accept the Terms of Service/ }).waitFor();
  assert.equal(await asked.getByRole("checkbox", { name: /Product news by email \(optional\)/ }).isChecked(), false);
  await shot(q, "en-consent-step");
  await asked.getByRole("button", { name: "Accept and continue" }).click();
  await q.getByRole("alert").filter({ hasText: "You need to accept the required terms to continue." }).waitFor();
  assert.ok(q.url().startsWith(info.form), "not on the app");
  await asked.getByRole("checkbox", { name: /I accept the Terms of Service/ }).check();
  await asked.getByRole("button", { name: "Accept and continue" }).click();
  await q.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await q.locator("#who").textContent(), `Signed in as ${hanako.name}`);
  await q.context().close();

  // Not asked again while nothing changes.
  const r = await page("en-US");
  await openForm(r, "/hc/en-us");
  await signIn(r, hanako);
  await r.waitForURL(`${info.demo_app}/hc/en-us`);
  await r.context().close();

  // A new version of the terms: asked at the next sign-in (in Japanese now), refused when declined.
  publishTerms(2);
  const s = await page("ja-JP");
  await openForm(s, "/hc/ja");
  await signIn(s, hanako);
  const again = step(s, "consent");
  await again.getByRole("checkbox", { name: /利用規約に同意します/ }).waitFor();
  assert.equal(await again.getByRole("link", { name: "読む" }).first().getAttribute("href"), "https://acme.example.com/ja/terms/v2");
  await again.getByRole("button", { name: "同意して続ける" }).click();
  await s.getByRole("alert").filter({ hasText: "続行するには、必須の規約に同意してください。" }).waitFor();
  // The language switch keeps what is ticked.
  await again.getByRole("checkbox", { name: /利用規約に同意します/ }).check();
  await s.getByRole("button", { name: "English" }).click();
  assert.equal(await again.getByRole("checkbox", { name: /I accept the Terms of Service/ }).isChecked(), true);
  await again.getByRole("button", { name: "Accept and continue" }).click();
  await s.waitForURL(`${info.demo_app}/hc/ja`);

  // On the account page: the terms as accepted, the optional consent given there (and withdrawn).
  await s.goto(`${info.api}/account`);
  await s.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  await s.getByText("Terms of Service: accepted").waitFor();
  const news = s.getByRole("checkbox", { name: /Product news by email \(optional\)/ });
  assert.equal(await news.isChecked(), false);
  await news.check();
  await s.getByRole("status").filter({ hasText: "Recorded: you agreed to Product news by email." }).waitFor();
  await shot(s, "en-account-consents");
  await news.uncheck();
  await s.getByRole("status").filter({ hasText: "Recorded: you withdrew Product news by email." }).waitFor();
  await s.context().close();
  const decided = consent("show", hanako.email).records.filter((r) => r.via === "account").map((r) => [r.document, r.accepted]);
  assert.deepEqual(decided.sort(), [["marketing", false], ["marketing", true]]);

  const exported = consent("export", "terms", "2");
  assert.deepEqual(exported.map((r) => [r.email, r.accepted]), [[hanako.email, true]]);
  assert.deepEqual(consent("list").map((d) => [d.id, d.version]), [["marketing", 1], ["terms", 1], ["terms", 2]]);
});

test("consent in the console: an admin publishes the next version of the terms and a new document, a version published meanwhile is never followed unseen, bad names and addresses are refused; a version's records export as the command line exports them, audited; a person's page shows where they stand; a viewer only reads", async () => {
  const p = await page("en-US");
  await signInToConsole(p, info, info.users.admin, { acceptTerms: true });
  await p.getByRole("navigation").getByRole("link", { name: "Consent", exact: true }).click();
  await p.locator("main h1").filter({ hasText: "Consent documents" }).waitFor();
  const row = (id) => p.getByRole("row").filter({ has: p.getByRole("rowheader", { name: id, exact: true }) });
  await row("terms").getByRole("cell", { name: "Required" }).waitFor();
  await row("terms").getByRole("cell", { name: "2", exact: true }).waitFor();
  await row("marketing").getByRole("cell", { name: "Optional" }).waitFor();

  // The next version of the terms, filled in from the current one.
  await row("terms").getByRole("button", { name: "New version" }).click();
  const form = p.getByRole("region", { name: "New version of terms" });
  await form.getByText("This publishes version 3 of terms").waitFor();
  await consoleA11y(p, "console-consent-form", info.form);
  assert.equal(await form.getByLabel("Title (English)").inputValue(), "Terms of Service");
  await form.getByLabel("Title (English)").fill("Terms of Service, 3rd edition");
  await form.getByLabel("Address of the text (English)").fill("https://acme.example.com/en/terms/v3");
  await form.getByRole("button", { name: "Publish" }).click();
  await p.getByRole("status").filter({ hasText: "Published version 3 of terms: everyone is asked to accept it at their next sign-in." }).waitFor();
  await row("terms").getByRole("link", { name: "Terms of Service, 3rd edition" }).waitFor();
  assert.equal(await row("terms").getByRole("link", { name: "Terms of Service, 3rd edition" }).getAttribute("href"), "https://acme.example.com/en/terms/v3");
  await row("terms").getByText("2 earlier versions").waitFor();

  // Another operator publishes version 4 while this form is open: publishing here is refused
  // (412), the list shows theirs, and nothing of this form's is published.
  await row("terms").getByRole("button", { name: "New version" }).click();
  await form.getByText("This publishes version 4 of terms").waitFor();
  await form.getByLabel("Title (English)").fill("Written from version 3");
  publishTerms(4);
  await form.getByRole("button", { name: "Publish" }).click();
  await p.getByRole("alert").filter({ hasText: "Someone else changed this after you opened it." }).waitFor();
  await row("terms").getByText("3 earlier versions").waitFor();
  assert.equal(consent("list").filter((d) => d.id === "terms").length, 4, "the form's version was not published");
  assert.ok(!JSON.stringify(consent("list")).includes("Written from version 3"));

  // Everyone's decisions about one version, exported as the command line exports them: Hanako's
  // and the admin's acceptance of version 2 (at this sign-in).
  await row("terms").getByText("3 earlier versions").click();
  const [file] = await Promise.all([p.waitForEvent("download"), row("terms").getByRole("button", { name: "Export records of terms version 2" }).click()]);
  assert.equal(file.suggestedFilename(), "consent-terms-v2.jsonl");
  const exported = readFileSync(await file.path(), "utf8").trim().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(exported, consent("export", "terms", "2"));
  assert.deepEqual(exported.map((r) => r.email).sort(), [info.users.admin.email, info.users.hanako.email].sort());
  await p.getByRole("status").filter({ hasText: "Exported 2 records of version 2 of terms (JSON lines)." }).waitFor();

  // A new document: its name and addresses are checked before anything is sent.
  await p.getByRole("button", { name: "New document" }).click();
  const fresh = p.getByRole("region", { name: "New document" });
  await fresh.getByLabel("Name").fill("Research Panel");
  await fresh.getByLabel("Title (日本語)").fill("調査へのご協力");
  await fresh.getByLabel("Title (English)").fill("Research panel");
  await fresh.getByLabel("Address of the text (日本語)").fill("javascript:alert(1)");
  await fresh.getByLabel("Address of the text (English)").fill("http://acme.example.com/research");
  await fresh.getByRole("button", { name: "Publish" }).click();
  await fresh.getByRole("alert").filter({ hasText: "Fix the fields marked below." }).waitFor();
  await fresh.getByText("Use 1 to 32 of a-z, 0-9 and -, starting with a letter.").waitFor();
  assert.equal(await fresh.getByText("Enter an https address.").count(), 2);
  await fresh.getByLabel("Name").fill("terms");
  await fresh.getByText("There is a document named terms: publish a new version of it instead.").waitFor();
  await fresh.getByLabel("Name").fill("research");
  await fresh.getByLabel("Address of the text (日本語)").fill("https://acme.example.com/ja/research");
  await fresh.getByLabel("Address of the text (English)").fill("https://acme.example.com/en/research");
  await fresh.getByRole("button", { name: "Publish" }).click();
  await p.getByRole("status").filter({ hasText: "Published version 1 of research." }).waitFor();
  await row("research").getByRole("cell", { name: "Optional" }).waitFor();
  await consoleA11y(p, "console-consent", info.form);
  await shot(p, "en-console-consent");

  // The audit trail names each publication, through the console and the command line alike.
  await p.goto(`${info.form}/console/#/audit/target/${encodeURIComponent("consent:terms")}`);
  await p.getByRole("article", { name: "Consent document published consent:terms" }).first().waitFor();
  assert.equal(await p.getByRole("article", { name: "Consent document published consent:terms" }).count(), 4);
  assert.equal(await p.getByRole("article", { name: "Consent records exported consent:terms" }).count(), 1, "the export's one page");

  // Hanako accepted version 2 of the terms and withdrew the marketing consent.
  await p.goto(`${info.form}/console/#/people/${encodeURIComponent(info.users.hanako.email)}`);
  const theirs = p.getByRole("region", { name: "Consent", exact: true });
  const standing = (id) => theirs.getByRole("row").filter({ has: p.getByRole("rowheader", { name: id, exact: true }) });
  await standing("terms").getByRole("cell", { name: "Accepted version 2 only" }).waitFor();
  await standing("marketing").getByRole("cell", { name: "Not accepted" }).waitFor();
  await standing("research").getByRole("cell", { name: "Not accepted" }).waitFor();
  await theirs.getByText(/Every decision \(\d+\)/).click();
  await theirs.getByText(/declined or withdrawn · on the account page/).waitFor();
  await consoleA11y(p, "console-person-consents", info.form);
  await p.context().close();

  // A viewer reads the documents but has no control to publish; the API refuses the viewer's.
  const v = await page("ja-JP");
  await signInToConsole(v, info, info.users.viewer, { lang: "ja", acceptTerms: true });
  await v.getByRole("navigation").getByRole("link", { name: "同意文書", exact: true }).click();
  await v.getByRole("row").filter({ hasText: "research" }).getByRole("cell", { name: "任意" }).waitFor();
  assert.equal(await v.getByRole("button", { name: /新しい版|新しい文書/ }).count(), 0);
  assert.equal(await v.getByRole("button", { name: /記録をエクスポート/ }).count(), 0, "only admins export personal data");
  await consoleA11y(v, "console-consent-viewer-ja", info.form);
  const refused = await callConsoleApi(v, info, "/consent/terms", { method: "POST", ifMatch: '"4"', body: { title: { ja: "x", en: "x" }, url: { ja: "https://x.example", en: "https://x.example" } } });
  assert.equal(refused.status, 403);
  assert.equal(consent("list").filter((d) => d.id === "terms").length, 4);
  await v.context().close();
});
