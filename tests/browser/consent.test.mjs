// Browser tests of consent: the operator publishes documents with `bridge-admin consent`; a new
// person ticks them on the sign-up form (required ones must be); an existing person is asked at
// their next sign-in, refused when they decline, and asked again when a new version of the terms
// is published. Its own stack: publishing required terms changes every sign-in after it.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { root, shot, startStack, step, identify } from "./stack.mjs";

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
  const context = await browser.newContext({ locale, extraHTTPHeaders: { "Accept-Language": locale } });
  return context.newPage();
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

/** The newest email the local Cognito sent to `to` of `kind` (polled). */
async function emailTo(p, to, kind) {
  for (let i = 0; i < 50; i++) {
    const mails = await (await p.request.get(`${info.mail}/messages?to=${encodeURIComponent(to)}`)).json();
    const mail = mails.find((m) => m.kind === kind);
    if (mail) return mail;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no ${kind} email to ${to}`);
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
  const mail = await emailTo(p, email, "CustomMessage_SignUp");
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
