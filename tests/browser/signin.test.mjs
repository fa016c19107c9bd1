// Browser tests: a person signs in through the real form (served as S3 would serve it) in
// headless Debian Chromium and lands on the demo Zendesk-style app, which verifies the JWT with
// PyJWT the way Zendesk does. The whole local stack runs from scripts/local_stack.py.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createHmac } from "node:crypto";
import { emailTo, identify, root, shot, startStack, step } from "./stack.mjs";

let info;
let browser;
let stop;

before(async () => {
  // Organisations read fresh at every sign-in: a test changes one's policy.
  ({ info, browser, stop } = await startStack({ env: { ORGS_TTL_SECONDS: "0" } }));
});

after(async () => {
  if (stop) await stop();
});

async function page(locale) {
  const context = await browser.newContext({ locale, extraHTTPHeaders: { "Accept-Language": locale } });
  return context.newPage();
}

async function openForm(p, path = "/hc/ja") {
  await p.goto(`${info.demo_app}${path}`);
  await p.waitForURL((url) => url.href.startsWith(info.form));
}

test("English: a wrong password is refused, the right one lands on the app as the right person", async () => {
  const p = await page("en-US");
  await openForm(p, "/hc/en-us/requests");
  assert.equal(await p.locator("h1").textContent(), "Sign in");
  await identify(p, info.users.hanako.email);
  await step(p, "password").getByLabel("Password").fill("Not-The-Passw0rd!");
  await step(p, "password").getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("alert").filter({ hasText: "Incorrect email or password." }).waitFor();
  await shot(p, "en-wrong-password");

  await step(p, "password").getByLabel("Password").fill(info.users.hanako.password);
  await step(p, "password").getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(`${info.demo_app}/hc/en-us/requests`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${info.users.hanako.name}`);
  const me = await (await p.request.get(`${info.demo_app}/api/me`)).json();
  assert.equal(me.email, info.users.hanako.email);
  assert.equal(me.organization, "Acme 株式会社");
  assert.equal(me.role, "agent");
  assert.deepEqual(me.tags, ["vip"]);
  await shot(p, "en-signed-in");
  await p.context().close();
});

test("Japanese: an SMS code step, then the app", async () => {
  const p = await page("ja-JP");
  await openForm(p);
  assert.equal(await p.locator("h1").textContent(), "サインイン");
  await identify(p, info.users.mfa.email);
  await step(p, "password").getByLabel("パスワード", { exact: true }).fill(info.users.mfa.password);
  await step(p, "password").getByRole("button", { name: "サインイン" }).click();
  await step(p, "code").getByLabel("確認コード").waitFor();
  await shot(p, "ja-mfa-step");
  await step(p, "code").getByLabel("確認コード").fill("123456");
  await step(p, "code").getByRole("button", { name: "確認" }).click();
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${info.users.mfa.name}`);
  // The password sign-in left a bridge session: the app opens again without the form.
  await p.goto(`${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/en-us")}`);
  await p.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${info.users.mfa.name}`);
  await p.context().close();
});

test("the language switch, the new-password step, and Zendesk's error message on the form", async () => {
  const p = await page("ja-JP");
  await openForm(p);
  await p.getByRole("button", { name: "English" }).click();
  assert.equal(await p.locator("h1").textContent(), "Sign in");
  assert.equal(await p.evaluate(() => document.documentElement.lang), "en");
  await identify(p, info.users.new.email);
  await step(p, "password").getByLabel("Password").fill(info.users.new.password);
  await step(p, "password").getByRole("button", { name: "Sign in" }).click();
  await step(p, "new-password").getByLabel("New password", { exact: true }).fill("Chosen-Passw0rd!");
  await step(p, "new-password").getByLabel("New password again").fill("Chosen-Passw0rd!");
  await step(p, "new-password").getByRole("button", { name: "Set password" }).click();
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${info.users.new.name}`);

  // Zendesk refuses a token: the form says so in the person's language (never the app's own
  // words, which anyone could put in a link).
  await p.goto(`${info.api}/sso/${info.app_id}/logout?kind=error&message=Invalid%20iat%20parameter`);
  await p.waitForURL((url) => url.href.startsWith(info.form));
  await p.getByRole("status").filter({ hasText: "The app could not complete your sign-in. Please try again" }).waitFor();
  assert.equal(await p.getByText("Invalid iat parameter").count(), 0, "the app's message is not repeated on the form");
  await p.getByRole("button", { name: "日本語" }).click();
  await p.getByRole("status").filter({ hasText: "アプリでサインインを完了できませんでした。" }).waitFor();
  await shot(p, "ja-app-error");
  await p.context().close();
});

test("Japanese: a company's domain typed first goes straight to the company's provider, without the corporate button", async () => {
  const p = await page("ja-JP");
  await openForm(p);
  await identify(p, info.employee.email);
  await p.waitForURL((url) => url.href.startsWith(info.company_idp));
  assert.equal(await p.getByLabel("Work email").inputValue(), info.employee.email);
  await p.getByLabel("Company password").fill(info.employee.password);
  await p.getByRole("button", { name: "Sign in to Example Corp" }).click();
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${info.employee.name}`);
  await p.context().close();
});

test("corporate email: the company's own sign-in page, the app, a second visit without a prompt, single sign-out", async () => {
  const p = await page("en-US");
  await openForm(p);
  await step(p, "identify").getByRole("button", { name: "Continue with corporate email" }).click();
  await step(p, "corporate").getByLabel("Work email").fill(info.employee.email);
  await step(p, "corporate").getByRole("button", { name: "Continue" }).click();
  // The company's provider, with the typed email already filled in.
  await p.waitForURL((url) => url.href.startsWith(info.company_idp));
  assert.equal(await p.getByLabel("Work email").inputValue(), info.employee.email);
  await shot(p, "corporate-provider");
  await p.getByLabel("Company password").fill(info.employee.password);
  await p.getByRole("button", { name: "Sign in to Example Corp" }).click();
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${info.employee.name}`);

  // Straight back in through the bridge session: no form, no provider.
  await p.goto(`${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/en-us")}`);
  await p.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${info.employee.name}`);

  // Sign out at the app: the bridge session ends, then the company's (after its own question).
  await p.getByRole("link", { name: "Sign out" }).click();
  await p.waitForURL((url) => url.href.startsWith(info.company_idp));
  await p.getByRole("button", { name: "Yes, sign me out" }).click();
  await p.waitForURL((url) => url.href.startsWith(info.form));
  await p.getByRole("status").filter({ hasText: "signed out" }).waitFor();
  await shot(p, "corporate-signed-out");
  // The session is over: the app's sign-in shows the form again.
  await p.goto(`${info.api}/sso/${info.app_id}`);
  await p.waitForURL((url) => url.href.startsWith(info.form));
  await p.context().close();
});

test("token apps: a community (ES256), a forum (DiscourseConnect), a tool (RS256) and a SAML service provider (pysaml2), each through the form", async () => {
  const hanako = info.users.hanako;
  const expected = {
    community: { who: "Signed in to Demo Community as hanako", claims: { email: hanako.email, username: "hanako", roles: "3" } },
    forum: { who: `Signed in to Demo Forum as ${hanako.name}`, claims: { email: hanako.email, name: hanako.name, groups: "staff" } },
    tool: { who: `Signed in to Demo Tool as ${hanako.name}`, claims: { email: hanako.email, aud: "demo-tool", iss: info.api } },
    wiki: { who: `Signed in to Demo Wiki as ${hanako.name}`, claims: { name_id: hanako.email, email: hanako.email, name: hanako.name } },
  };
  for (const [app, want] of Object.entries(expected)) {
    const p = await page("en-US");
    const start = `${info.token_apps}/${app}/`;
    await p.goto(start);
    await p.waitForURL((url) => url.href.startsWith(info.form));
    await identify(p, hanako.email);
    await step(p, "password").getByLabel("Password").fill(hanako.password);
    await step(p, "password").getByRole("button", { name: "Sign in" }).click();
    await p.waitForURL(start);
    assert.equal(await p.locator("#who").textContent(), want.who);
    const me = await (await p.request.get(`${info.token_apps}/${app}/api/me`)).json();
    for (const [k, v] of Object.entries(want.claims)) assert.equal(me[k], v, `${app}: ${k}`);
    await shot(p, `token-app-${app}`);
    if (app === "forum" || app === "wiki") {
      // The app asks again with a new nonce or request (its own session gone): the bridge
      // session answers.
      await p.context().clearCookies({ name: `${app}_session` });
      await p.goto(start);
      await p.waitForURL(start);
      assert.equal(await p.locator("#who").textContent(), want.who);
    }
    await p.context().close();
  }
});

test("an OpenID Connect app (openid-client, a certified relying party): the code flow with PKCE through the form, its refresh token, then from the bridge session, then its sign-out ends the session", async () => {
  const hanako = info.users.hanako;
  const p = await page("ja-JP");
  const start = `${info.oidc_app}/`;
  await p.goto(start);
  await p.waitForURL((url) => url.href.startsWith(info.form));
  await identify(p, hanako.email);
  await step(p, "password").getByLabel("パスワード", { exact: true }).fill(hanako.password);
  await step(p, "password").getByRole("button", { name: "サインイン" }).click();
  await p.waitForURL(start);
  // openid-client checked the ID token (issuer, audience, signature by the published keys,
  // nonce), the state, PKCE and RFC 9207's iss; then it called UserInfo with the access token.
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${hanako.email}`);
  const claims = JSON.parse(await p.locator("#claims").textContent());
  assert.equal(claims.iss, info.api);
  assert.equal(claims.aud, info.oidc_app_id);
  assert.equal(claims.name, hanako.name);
  assert.ok(claims.groups.includes("zendesk-agents"));
  const userinfo = JSON.parse(await p.locator("#userinfo").textContent());
  assert.equal(userinfo.sub, claims.sub);
  assert.equal(userinfo.email, hanako.email);
  await shot(p, "oidc-app-signed-in");
  // Its refresh token (offline_access) gives new tokens twice: each refresh answers the next
  // one, and openid-client checks each new ID token as the first.
  for (const n of ["1", "2"]) {
    await p.getByRole("link", { name: "Refresh tokens" }).click();
    await p.waitForURL(start);
    assert.equal(await p.locator("#refreshes").textContent(), n);
    const refreshed = JSON.parse(await p.locator("#claims").textContent());
    assert.equal(refreshed.sub, claims.sub);
    assert.equal(refreshed.nonce, undefined);
  }
  // The app's own session gone, it asks again: the bridge session answers without the form.
  await p.context().clearCookies({ name: "demo_oidc" });
  await p.goto(start);
  await p.waitForURL(start);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${hanako.email}`);
  // Its sign-out ends the bridge session too (the end-session endpoint), then comes back to it.
  await p.getByRole("link", { name: "Sign out" }).click();
  await p.waitForURL(`${info.oidc_app}/signed-out?state=demo`);
  await p.goto(start);
  await p.waitForURL((url) => url.href.startsWith(info.form));
  await p.context().close();
});

test("an OpenID Connect app is told when the person signs out of the bridge elsewhere (back-channel logout): its own session ends", async () => {
  const hanako = info.users.hanako;
  const p = await page("en-US");
  const start = `${info.oidc_app}/`;
  await p.goto(start);
  await p.waitForURL((url) => url.href.startsWith(info.form));
  await identify(p, hanako.email);
  await step(p, "password").getByLabel("Password", { exact: true }).fill(hanako.password);
  await step(p, "password").getByRole("button", { name: "Sign in" }).click();
  await p.waitForURL(start);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${hanako.email}`);
  assert.ok(JSON.parse(await p.locator("#claims").textContent()).sid, "the ID token names the bridge session");
  // Signed out at the bridge itself, not through the app: the bridge posts the app a logout
  // token (the table's stream, then the session-ends function), which jose checks; the app's
  // session ends, so it sends the person to the form again.
  await p.goto(`${info.api}/logout`);
  await p.waitForURL((url) => url.href.startsWith(info.form));
  let back = "";
  for (let tries = 0; tries < 40 && !back.startsWith(info.form); tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    await p.goto(start);
    back = p.url();
  }
  assert.ok(back.startsWith(info.form), `the app's session did not end: ${back}`);
  await p.context().close();
});

// An app's sign-in link, then the form's password step in `lang`.
async function signInAt(p, sso, user, lang) {
  const label = lang === "ja" ? { email: "メールアドレス", password: "パスワード", submit: "サインイン" } : { email: "Email", password: "Password", submit: "Sign in" };
  await p.goto(sso);
  await p.waitForURL((url) => url.href.startsWith(info.form));
  await identify(p, user.email);
  await step(p, "password").getByLabel(label.password, { exact: true }).fill(user.password);
  await step(p, "password").getByRole("button", { name: label.submit }).click();
}

test("an app for its agents only (access: the zendesk-agents group): an agent lands on it; anyone else is told in their language that their account has no access, and gets no token", async () => {
  const agentsApp = (path) => `${info.api}/sso/${info.agents_app_id}?return_to=${encodeURIComponent(info.demo_app + path)}`;
  const agent = await page("en-US");
  await signInAt(agent, agentsApp("/hc/en-us"), info.users.hanako, "en");
  await agent.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await agent.locator("#who").textContent(), `Signed in as ${info.users.hanako.name}`);
  await agent.context().close();
  const outsider = info.users.outsider;
  for (const [locale, lang, text] of [
    ["en-US", "en", "Your account does not have access to this app. Ask the app's administrator to give you access."],
    ["ja-JP", "ja", "このアカウントにはこのアプリへのアクセス権がありません。アプリの管理者にアクセス権の付与を依頼してください。"],
  ]) {
    const p = await page(locale);
    await signInAt(p, agentsApp("/hc/en-us"), outsider, lang);
    await p.getByRole("alert").filter({ hasText: text }).waitFor();
    assert.ok(p.url().startsWith(info.form), "still on the form");
    await shot(p, `${lang}-not-assigned`);
    // Signed in to an app that admits everyone, the same person's session does not enter the
    // agents' app: the form again (a fresh sign-in reads their groups as they are now).
    await signInAt(p, `${info.demo_app}/hc/en-us`, outsider, lang);
    await p.waitForURL(`${info.demo_app}/hc/en-us`);
    await p.goto(agentsApp("/hc/en-us"));
    await p.waitForURL((url) => url.href.startsWith(info.form));
    await p.context().close();
  }
});

test("a high-risk sign-in: the guarded app refuses a new browser with a clear message and lets a known one in", async () => {
  const user = info.users.guarded;
  const signIn = (p) => signInAt(p, `${info.api}/sso/${info.guarded_app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/ja")}`, user, "ja");

  // The first browser sets the person's baseline and lands on the app.
  const known = await page("ja-JP");
  await signIn(known);
  await known.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await known.locator("#who").textContent(), `Signed in as ${user.name}`);

  // A new browser (its own device cookie): refused on the form, before any token.
  const fresh = await page("ja-JP");
  await signIn(fresh);
  await fresh.getByRole("alert").filter({ hasText: "普段と異なるサインインのため、ブロックしました。" }).waitFor();
  assert.ok(fresh.url().startsWith(info.form), "still on the form");
  await shot(fresh, "ja-high-risk-refused");
  await fresh.context().close();

  // The known browser signs out and in again: let in.
  await known.goto(`${info.api}/logout`);
  await known.waitForURL((url) => url.href.startsWith(info.form));
  await signIn(known);
  await known.waitForURL(`${info.demo_app}/hc/ja`);
  await known.context().close();
});

// RFC 6238 (SHA-1, 30 s, 6 digits), as an authenticator app computes it from a base32 key.
function totp(key) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of key.replace(/[\s=]/g, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const bytes = Buffer.from((bits.match(/.{8}/g) || []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)));
  const mac = createHmac("sha1", bytes).update(counter).digest();
  const offset = mac[19] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

test("a high-risk sign-in to an app that requires a second factor: the person sets up an authenticator app on the form", async () => {
  const user = info.users.stepup;
  const signIn = (p) => signInAt(p, `${info.api}/sso/${info.stepup_app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/en-us")}`, user, "en");
  const known = await page("en-US");
  await signIn(known);
  await known.waitForURL(`${info.demo_app}/hc/en-us`);
  await known.context().close();

  const fresh = await page("en-US");
  await signIn(fresh);
  // Whoever holds only the password cannot enrol a factor: first the code sent to the email.
  await step(fresh, "code").getByText("First, enter the code we emailed to").waitFor();
  await shot(fresh, "en-verify-email");
  await step(fresh, "code").getByLabel("Code").fill("000000");
  await step(fresh, "code").getByRole("button", { name: "Verify" }).click();
  await fresh.locator("#error").getByText("That code is not correct").waitFor();
  const mail = readFileSync(info.outbox, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((m) => m.destination === user.email).pop();
  await step(fresh, "code").getByLabel("Code").fill(mail.code);
  await step(fresh, "code").getByRole("button", { name: "Verify" }).click();
  await step(fresh, "code").getByText("Add this key to an authenticator app").waitFor();
  const key = (await fresh.locator("#totp-secret").textContent()).replace(/\s/g, "");
  assert.match(key, /^[A-Z2-7]+=*$/i);
  assert.match(await fresh.locator("#totp-link").getAttribute("href"), /^otpauth:\/\/totp\//);
  await shot(fresh, "en-totp-setup");
  // Stay clear of the end of a 30-second step (Cognito checks the current one only).
  if (Date.now() / 1000 % 30 > 25) await new Promise((r) => setTimeout(r, 6000));
  await step(fresh, "code").getByLabel("Code").fill(totp(key));
  await step(fresh, "code").getByRole("button", { name: "Verify" }).click();
  await fresh.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await fresh.locator("#who").textContent(), `Signed in as ${user.name}`);
  await fresh.context().close();
});

test("the telephony hook: an operator's preview arrives in the demo SMS inbox", async () => {
  const admin = join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "bridge-admin");
  const env = { ...process.env, AWS_ENDPOINT_URL: info.moto, AWS_REGION: info.region, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local",
                TABLE_NAME: info.table_name, USER_POOL_ID: info.user_pool_id };
  const hooks = execFileSync(admin, ["hook", "list"], { env, encoding: "utf8" }).trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(hooks.map((h) => [h.hook.name, h.active]), [["demo-sms", true]], "the local stack registers the demo service as the active hook");

  const out = execFileSync(admin, ["hook", "preview", "demo-sms", "--user", info.users.mfa.email, "--type", "mfa-verification", "--send"], { env, encoding: "utf8" });
  assert.match(out, /answer in \d+ ms \(HTTP 200\): delivered/);
  const code = out.match(/"otpCode": "(\d{6})"/)[1];

  const p = await page("en-US");
  await p.goto(`${info.telephony}/`);
  const message = p.locator(".message").first();
  assert.equal(await message.locator(".to").textContent(), "+819012345678");
  // The person's locale is ja: the message is the Japanese one.
  assert.match(await message.locator(".text").textContent(), new RegExp(`サインイン用の確認コード: ${code}（3分間有効）`));
  await shot(p, "telephony-inbox");
  await p.context().close();
});

test("Japanese: a new person creates an account on the app's form (a breached password refused), reads the code in the local inbox in Japanese, and lands in the app; the same email again reveals nothing", async () => {
  const p = await page("ja-JP");
  await openForm(p);
  await step(p, "identify").getByRole("button", { name: "アカウントを作成" }).click();
  const form = step(p, "sign-up");
  const email = `sakura.${Date.now()}@example.com`;
  await form.getByLabel("メールアドレス").fill(email);
  // The password rules are checked as the person types, and before anything is sent.
  await form.getByLabel("パスワード").fill("short");
  assert.equal(await form.locator("#password-rules .met").count(), 1, "only the lowercase rule is met");
  await form.getByLabel("お名前").fill("佐藤 さくら");
  assert.equal(await form.getByLabel("お送りするメールの言語").inputValue(), "ja", "the page's language by default");
  await form.getByRole("button", { name: "アカウントを作成" }).click();
  await p.getByRole("alert").filter({ hasText: "パスワードが下記の条件をすべて満たしていません。" }).waitFor();
  // A password known from data breaches meets every rule and is refused all the same (the local
  // stand-in of the Pwned Passwords range API knows it).
  await form.getByLabel("パスワード").fill("Password123!");
  assert.equal(await form.locator("#password-rules .met").count(), 4);
  await form.getByRole("button", { name: "アカウントを作成" }).click();
  await p.getByRole("alert").filter({ hasText: "このパスワードは過去のデータ漏えいで流出しており" }).waitFor();
  await form.getByLabel("パスワード").fill("Sakura-Passw0rd!");
  assert.equal(await form.locator("#password-rules .met").count(), 4);
  await shot(p, "ja-sign-up");
  await form.getByRole("button", { name: "アカウントを作成" }).click();
  await step(p, "confirm").getByText(/s\*\*\*@e\*\*\* にメールでお送りした確認コード/).waitFor();

  // The inbox shows the email in Japanese, with the product's name and the person's.
  const mail = await emailTo(p, info, email, "CustomMessage_SignUp");
  assert.equal(mail.subject, "【Demo Help Center】確認コードのお知らせ");
  const inbox = await p.context().newPage();
  await inbox.goto(`${info.mail}/?to=${encodeURIComponent(email)}`);
  assert.equal(await inbox.locator(".email .subject").first().textContent(), mail.subject);
  const body = inbox.frameLocator(".email iframe").first();
  await body.getByText(`${email} 様`).waitFor();
  await body.getByText(mail.code).waitFor();
  await shot(inbox, "mail-inbox");
  await inbox.close();

  await step(p, "confirm").getByLabel("確認コード").fill("000000" === mail.code ? "111111" : "000000");
  await step(p, "confirm").getByRole("button", { name: "確認してサインイン" }).click();
  await p.getByRole("alert").filter({ hasText: "確認コードが正しくありません。" }).waitFor();
  await step(p, "confirm").getByLabel("確認コード").fill(mail.code);
  await step(p, "confirm").getByRole("button", { name: "確認してサインイン" }).click();
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#who").textContent(), "Signed in as 佐藤 さくら");
  await p.context().close();

  // Someone else tries the same email: the same step and words as for a new one; the owner is told.
  const q = await page("ja-JP");
  await openForm(q);
  await step(q, "identify").getByRole("button", { name: "アカウントを作成" }).click();
  const again = step(q, "sign-up");
  await again.getByLabel("メールアドレス").fill(email);
  await again.getByLabel("パスワード").fill("Other-Passw0rd!");
  await again.getByLabel("お名前").fill("誰か");
  await again.getByRole("button", { name: "アカウントを作成" }).click();
  await step(q, "confirm").getByText(/s\*\*\*@e\*\*\* にメールでお送りした確認コード/).waitFor();
  const notice = await emailTo(q, info, email, "CustomMessage_ForgotPassword");
  assert.equal(notice.subject, "【Demo Help Center】アカウントはすでにあります");
  await q.context().close();
});

test("English: an unconfirmed person finishes later from the sign-in step, and a company's email is sent to corporate sign-in", async () => {
  const p = await page("en-US");
  await openForm(p, "/hc/en-us");
  await step(p, "identify").getByRole("button", { name: "Create an account" }).click();
  const email = `later.${Date.now()}@example.com`;
  const form = step(p, "sign-up");
  await form.getByLabel("Email", { exact: true }).fill(email);
  await form.getByLabel("Password").fill("Later-Passw0rd!");
  await form.getByLabel("Name").fill("Lee Later");
  await form.getByRole("button", { name: "Create an account" }).click();
  await step(p, "confirm").getByText("Enter the code we emailed to l***@e*** to confirm your address.").waitFor();
  await p.context().close();

  // Later, in another browser: the password leads to the code step, with a new code.
  const q = await page("en-US");
  await openForm(q, "/hc/en-us");
  await identify(q, email);
  await step(q, "password").getByLabel("Password").fill("Later-Passw0rd!");
  await step(q, "password").getByRole("button", { name: "Sign in" }).click();
  await step(q, "confirm").waitFor();
  const mail = await emailTo(q, info, email, "CustomMessage_ResendCode");
  assert.equal(mail.subject, "Your new Demo Help Center verification code", "the person chose English");
  await step(q, "confirm").getByLabel("Code").fill(mail.code);
  await step(q, "confirm").getByRole("button", { name: "Confirm and sign in" }).click();
  await q.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await q.locator("#who").textContent(), "Signed in as Lee Later");
  await q.context().close();

  // A company that manages its people: to corporate sign-in, with the email carried over.
  const r = await page("en-US");
  await openForm(r, "/hc/en-us");
  await step(r, "identify").getByRole("button", { name: "Create an account" }).click();
  await step(r, "sign-up").getByLabel("Email", { exact: true }).fill(info.employee.email);
  await step(r, "sign-up").getByLabel("Password").fill("Corp-Passw0rd!x");
  await step(r, "sign-up").getByLabel("Name").fill(info.employee.name);
  await step(r, "sign-up").getByRole("button", { name: "Create an account" }).click();
  await r.getByRole("alert").filter({ hasText: "Your company manages your account. Sign in with your corporate email." }).waitFor();
  assert.equal(await step(r, "corporate").getByLabel("Work email").inputValue(), info.employee.email);
  await shot(r, "en-sign-up-corporate");
  await r.context().close();
});

test("English: an organisation that also allows passwords: its provider offered first, not forced; a company's error lets the next email through", async () => {
  const admin = join(process.env.CARGO_TARGET_DIR || join(root, "target"), "debug", "bridge-admin");
  const env = { ...process.env, AWS_ENDPOINT_URL: info.moto, AWS_REGION: info.region, AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local",
                TABLE_NAME: info.table_name, USER_POOL_ID: info.user_pool_id };
  const policy = (allowed) => execFileSync(admin, ["org", "set-policy", info.org_id, "--password-sign-in", String(allowed)], { env, encoding: "utf8" });
  policy(true);
  try {
    const p = await page("en-US");
    await openForm(p, "/hc/en-us");
    await identify(p, info.employee.email);
    const company = step(p, "password").getByRole("button", { name: "Continue with your company's sign-in" });
    await company.waitFor();
    assert.equal(await step(p, "password").getByLabel("Password", { exact: true }).isVisible(), true, "the password is offered too");
    await shot(p, "en-identify-either");
    await company.click();
    await p.waitForURL((url) => url.href.startsWith(info.company_idp));
    await p.context().close();
  } finally {
    policy(false);
  }
  // Back from the company with an error: the email typed next shows the other ways, with the
  // company's sign-in still offered.
  const q = await page("en-US");
  await openForm(q, "/hc/en-us");
  const url = new URL(q.url());
  url.searchParams.set("error", "not_provisioned");
  await q.goto(url.href);
  await q.getByRole("alert").filter({ hasText: "Your company has not given you access" }).waitFor();
  await identify(q, "contractor@corp.example");
  await step(q, "password").getByRole("button", { name: "Continue with your company's sign-in" }).waitFor();
  await q.context().close();
});
