// Browser tests of signing in without a password and of the account page, in Chromium with its
// virtual authenticator (WebAuthn over the DevTools protocol: a platform authenticator with
// user verification). The local Cognito verifies every passkey ceremony for real (the
// `webauthn` library); the form is served from `localhost`, the relying party. The account page
// changes the password (telling the person by email, ending the other sessions, and giving this browser a new session cookie
// value), the profile, and deletes the account.

import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { shot, startStack, step, identify } from "./stack.mjs";

let info;
let browser;
let stop;

before(async () => {
  ({ info, browser, stop } = await startStack());
});

after(async () => {
  if (stop) await stop();
});

/** A page in a fresh context (a new browser: its own cookies) with a virtual authenticator. */
async function device(locale) {
  const context = await browser.newContext({ locale, extraHTTPHeaders: { "Accept-Language": locale } });
  const p = await context.newPage();
  const cdp = await context.newCDPSession(p);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
  });
  return { p, cdp, authenticatorId };
}

/** The account page's fresh step: the password (its label in the page's language). */
async function reauth(p, label, password) {
  await p.locator("#reauth").getByLabel(label, { exact: true }).fill(password);
  await p.locator("#reauth").getByRole("button").click();
}

/** The fresh step's code (Cognito's MFA, or one emailed). */
async function reauthCode(p, code) {
  await p.locator("#reauth-code input").fill(code);
  await p.locator("#reauth-code").getByRole("button").click();
}

/** Signs in on the form with the password, then an SMS code when one is asked for. */
async function passwordSignIn(p, user, { sms = false } = {}) {
  await identify(p, user.email);
  await step(p, "password").locator("#password").fill(user.password);
  await step(p, "password").locator("button[type=submit]").click();
  if (sms) {
    await step(p, "code").locator("#code").fill("123456");
    await step(p, "code").locator("button[type=submit]").click();
  }
}

/** The newest email code sent to `to` (the local Cognito's outbox; a workflow's notice to the
 * same address may arrive after it). */
function lastCode(to) {
  const mails = readFileSync(info.outbox, "utf8").trim().split("\n").map((l) => JSON.parse(l)).filter((m) => m.destination === to && m.code);
  return mails.pop().code;
}

async function openForm(p, sso) {
  await p.goto(sso);
  await p.waitForURL((url) => url.href.startsWith(info.form));
}

/** The mail inbox page's message to `to` under `subject` (the workflows' notices arrive within a few
 * seconds: the dev server reads the table's stream every second). */
async function inboxMessage(p, to, subject) {
  for (let i = 0; i < 40; i++) {
    await p.goto(`${info.mail}/?to=${encodeURIComponent(to)}`);
    const message = p.locator("li.email").filter({ has: p.locator(".subject", { hasText: subject }) });
    if (await message.count()) return message.first();
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  assert.fail(`no "${subject}" to ${to} in the mail inbox`);
}

/** Signs `user` in with the password at the demo app's `path`, then opens the account page. */
async function openAccount(p, user, path) {
  await openForm(p, `${info.demo_app}${path}`);
  await passwordSignIn(p, user);
  await p.waitForURL(`${info.demo_app}${path}`);
  await p.goto(`${info.api}/account`);
  await p.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
}

/** The account page's fresh step for someone without MFA: the password (its field's `label` in the page's language), then the code emailed. */
async function elevate(p, user, label) {
  await reauth(p, label, user.password);
  await p.locator("#reauth-code").waitFor();
  await reauthCode(p, lastCode(user.email));
}

const stepupApp = (path) => `${info.api}/sso/${info.stepup_app_id}?return_to=${encodeURIComponent(info.demo_app + path)}`;

test("passkeys: added on the account page in Japanese after a fresh password step (a phone number abroad refused), then a sign-in with it in a new browser at an app that requires a second factor, in English; another session signed out from the list", async () => {
  const user = info.users.stepup;
  assert.ok(info.form.startsWith("http://localhost:"), `the form is served from the relying party's host: ${info.form}`);

  // A first browser signs in with the password (the person's baseline) and opens the account page.
  const a = await device("ja-JP");
  await openForm(a.p, stepupApp("/hc/ja"));
  await identify(a.p, user.email);
  await step(a.p, "password").getByLabel("パスワード", { exact: true }).fill(user.password);
  await step(a.p, "password").getByRole("button", { name: "サインイン" }).click();
  await a.p.waitForURL(`${info.demo_app}/hc/ja`);
  await a.p.goto(`${info.api}/account`);
  await a.p.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  assert.ok(!a.p.url().includes("grant="), "the grant is taken out of the address bar");
  await a.p.locator("#profile-email").getByText(user.email).waitFor();
  await a.p.getByRole("heading", { name: "サインインとセキュリティ" }).waitFor();

  // Changing passkeys asks for the password first; a wrong one is refused.
  await reauth(a.p, "パスワード", "Wrong-Passw0rd!");
  await a.p.getByRole("alert").filter({ hasText: "メールアドレスまたはパスワードが正しくありません。" }).waitFor();
  await reauth(a.p, "パスワード", user.password);
  // The password alone adds no passkey: a code to the verified email too.
  await a.p.getByText(/ご本人確認のため、s\*\*\*@e\*\*\* にメールで送信したコードを入力してください。/).waitFor();
  await reauthCode(a.p, lastCode(user.email));
  await a.p.getByText("パスキーはまだありません。").waitFor();
  await a.p.getByRole("button", { name: "パスキーを追加" }).click();
  await a.p.getByRole("status").filter({ hasText: "パスキーを追加しました。" }).waitFor();
  // The list is read again after the notice: wait for it.
  await a.p.locator("#passkey-list li").first().waitFor();
  assert.equal(await a.p.locator("#passkey-list li").count(), 1);
  await shot(a.p, "ja-account-passkey-added");
  const { credentials } = await a.cdp.send("WebAuthn.getCredentials", { authenticatorId: a.authenticatorId });
  assert.equal(credentials.length, 1, "the authenticator holds the new passkey");
  assert.equal(credentials[0].rpId, "localhost");
  // A number outside the operator's SMS destinations (the local stack allows +81): refused in the
  // person's language, before any code is sent.
  await a.p.getByLabel("ショートメッセージを受け取る電話番号").fill("+1 876 555 0100");
  await a.p.locator("#phone-form").getByRole("button", { name: "コードを送信" }).click();
  await a.p.getByRole("alert").filter({ hasText: "この国・地域の電話番号にはショートメッセージのコードを送れません。" }).waitFor();

  // A new browser (a high-risk sign-in for the app that requires a second factor) holding the
  // same passkey: in with it, without setting up another factor.
  const b = await device("en-US");
  await b.cdp.send("WebAuthn.addCredential", { authenticatorId: b.authenticatorId, credential: credentials[0] });
  await openForm(b.p, stepupApp("/hc/en-us"));
  await identify(b.p, user.email);
  await step(b.p, "password").getByRole("button", { name: "Use a passkey" }).click();
  await b.p.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await b.p.locator("#who").textContent(), `Signed in as ${user.name}`);

  // Back on the first browser: two sessions; the other one signed out from the list.
  await a.p.goto(`${info.api}/account`);
  await a.p.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  await a.p.locator("#session-list li").nth(1).waitFor();
  assert.equal(await a.p.locator("#session-list li").count(), 2);
  await a.p.locator("#session-list li", { hasText: "パスキー" }).getByRole("button", { name: "サインアウト" }).click();
  await a.p.getByRole("status").filter({ hasText: "そのセッションを終了しました。" }).waitFor();
  await shot(a.p, "ja-account-sessions");
  await b.p.goto(stepupApp("/hc/en-us"));
  await b.p.waitForURL((url) => url.href.startsWith(info.form));
  await b.p.context().close();
  await a.p.context().close();
});

test("an email code instead of a password, in Japanese; an unknown email gets the same step; the way used last comes first next time", async () => {
  const user = info.users.hanako;
  const p = (await device("ja-JP")).p;
  await openForm(p, `${info.demo_app}/hc/ja`);
  await step(p, "identify").getByRole("button", { name: "次へ" }).click();
  await p.getByRole("alert").filter({ hasText: "すべての項目を入力してください。" }).waitFor();
  await identify(p, "nobody@example.com");
  // The ways to sign in: the same for every address; a new browser starts with the password.
  assert.deepEqual(await methods(p), ["password", "passkey", "email_code"]);
  await step(p, "password").getByRole("button", { name: "メールでコードを受け取る" }).click();
  await step(p, "code").getByText("n***@e*** にメールで送信したコードを入力してください。").waitFor();
  await p.goto(p.url());
  await identify(p, user.email);
  await step(p, "password").getByRole("button", { name: "メールでコードを受け取る" }).click();
  await step(p, "code").getByText("h***@e*** にメールで送信したコードを入力してください。").waitFor();
  await shot(p, "ja-email-code");
  await step(p, "code").getByLabel("確認コード").fill(lastCode(user.email));
  await step(p, "code").getByRole("button", { name: "確認" }).click();
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#who").textContent(), `Signed in as ${user.name}`);

  // Next time in this browser, whoever types their email: the code first.
  await p.context().clearCookies();
  await openForm(p, `${info.demo_app}/hc/ja`);
  await identify(p, "someone.else@example.com");
  await step(p, "password").getByText("someone.else@example.com").waitFor();
  assert.deepEqual(await methods(p), ["email_code", "password", "passkey"]);
  await shot(p, "ja-last-used-first");
  await p.context().close();
});

/** The ways to sign in, in the order the form shows them. */
async function methods(p) {
  await step(p, "password").waitFor();
  return p.locator("#methods > [data-method]").evaluateAll((els) => els.map((el) => el.dataset.method));
}

test("Your apps: the account page lists the apps with a home page that admit the person, and each link lands signed in (through the forum's own sign-in too); the agents-only app only for an agent", async () => {
  const opened = async (user) => {
    const p = (await device("en-US")).p;
    await openAccount(p, user, "/hc/en-us");
    await p.locator("#apps").waitFor();
    return p;
  };
  const names = (p) => p.locator("#app-list a").allTextContents();
  const outsider = await opened(info.users.outsider);
  assert.equal(await outsider.getByRole("heading", { name: "Your apps" }).isVisible(), true);
  // Not the agents' app (its access lists a group they are not in), nor the apps without a home page.
  assert.deepEqual(await names(outsider), ["Demo Community", "Demo Forum", "Demo Help Center", "Demo OpenID Connect app", "Demo Tool", "Demo Wiki"]);
  await outsider.getByRole("link", { name: "Demo Tool" }).click();
  await outsider.waitForURL(`${info.token_apps}/tool/`);
  assert.equal(await outsider.locator("#who").textContent(), "Signed in to Demo Tool as Goro Outsider");
  await outsider.goBack();
  await outsider.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  await outsider.getByRole("link", { name: "Demo Forum" }).click();
  await outsider.waitForURL(`${info.token_apps}/forum/`);
  assert.equal(await outsider.locator("#who").textContent(), "Signed in to Demo Forum as Goro Outsider");
  // A SAML service provider sends its own request: the link is its page, the session answers it.
  await outsider.goBack();
  await outsider.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  await outsider.getByRole("link", { name: "Demo Wiki" }).click();
  await outsider.waitForURL(`${info.token_apps}/wiki/`);
  assert.equal(await outsider.locator("#who").textContent(), "Signed in to Demo Wiki as Goro Outsider");
  // An OpenID Connect app begins its own sign-in (state, nonce, PKCE): the link is its page.
  await outsider.goBack();
  await outsider.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  await outsider.getByRole("link", { name: "Demo OpenID Connect app" }).click();
  await outsider.waitForURL(`${info.oidc_app}/`);
  assert.equal(await outsider.locator("#who").textContent(), `Signed in as ${info.users.outsider.email}`);
  // The page's own address (a bookmark) opens it again for the live session...
  await outsider.goto(`${info.form}/account.html`);
  await outsider.locator("#app-list a").first().waitFor();
  assert.equal(await outsider.locator("#profile-email").textContent(), info.users.outsider.email);
  await shot(outsider, "account-apps");
  // The OpenID Connect app asked for offline_access: it keeps the person signed in (a refresh
  // token), and the page ends that.
  const connected = outsider.locator("#connected-list li");
  await connected.first().waitFor();
  assert.match(await connected.first().textContent(), /^Demo OpenID Connect app, since /);
  await shot(outsider, "account-connected-apps");
  await outsider.getByRole("button", { name: "Sign out of this app: Demo OpenID Connect app" }).click();
  await outsider.getByText("Demo OpenID Connect app no longer keeps you signed in.").waitFor();
  await outsider.locator("#connected").waitFor({ state: "hidden" });
  // The app's refresh token is refused now (its own session page says so).
  await outsider.goto(`${info.oidc_app}/`);
  await outsider.getByRole("link", { name: "Refresh tokens" }).click();
  assert.match(await outsider.locator("#error").textContent(), /^invalid_grant: /);
  await outsider.goto(`${info.form}/account.html`);
  await outsider.locator("#app-list a").first().waitFor();
  // ...and sends a browser without one to sign in.
  const stranger = (await device("en-US")).p;
  await stranger.goto(`${info.form}/account.html`);
  await stranger.waitForURL((url) => url.href.startsWith(info.form) && url.searchParams.get("notice") === "account_sign_in");

  const agent = await opened(info.users.hanako);
  assert.deepEqual(await names(agent), ["Demo Community", "Demo Forum", "Demo Help Center", "Demo Help Center (agents only)", "Demo OpenID Connect app", "Demo Tool", "Demo Wiki"]);
  await agent.getByRole("link", { name: "Demo Help Center (agents only)" }).click();
  await agent.waitForURL(`${info.demo_app}/agents/`);
  assert.equal(await agent.locator("#who").textContent(), "Signed in as 山田 花子");
});

test("Japanese: a new email address, after a fresh step: the code mailed to it changes it, every session ends, and the new address signs in", async () => {
  const user = info.users.outsider;
  const newEmail = "goro.new@example.com";
  const p = (await device("ja-JP")).p;
  await openForm(p, `${info.demo_app}/hc/ja`);
  await passwordSignIn(p, user);
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  await p.goto(`${info.api}/account`);
  await p.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  await reauth(p, "パスワード", user.password);
  await p.locator("#reauth-code").waitFor();
  await reauthCode(p, lastCode(user.email));
  const form = p.locator("#email-form");
  await form.getByLabel("新しいメールアドレス").fill("hanako@example.com");
  await form.getByRole("button", { name: "コードを送信" }).click();
  await p.getByRole("alert").filter({ hasText: "このメールアドレスは別のアカウントで使用されています。" }).waitFor();
  await form.getByLabel("新しいメールアドレス").fill(newEmail);
  await form.getByRole("button", { name: "コードを送信" }).click();
  const code = p.locator("#email-code-form");
  await code.waitFor();
  await code.getByLabel("確認コード").fill(lastCode(newEmail));
  await code.getByRole("button", { name: "メールアドレスを変更" }).click();
  await p.getByRole("status").filter({ hasText: `メールアドレスを ${newEmail} に変更しました。` }).waitFor();
  assert.equal(await p.locator("#settings").isVisible(), false);
  await shot(p, "account-email-changed");

  // The bridge session here ended too (the app's entry goes to the form); the new address signs
  // in once the hold on sign-ins begun before the change is past (its margin: a second or two).
  await new Promise((resolve) => setTimeout(resolve, 2_100));
  await openForm(p, `${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/ja")}`);
  await passwordSignIn(p, { ...user, email: newEmail });
  await p.waitForURL(`${info.demo_app}/hc/ja`);
  assert.equal(await p.locator("#email").textContent(), newEmail);
  // The old address is told, in the person's language (no locale: English), as plain text.
  const notice = await inboxMessage(p, user.email, "The email address of your account was changed");
  assert.match(await notice.locator("pre.text").textContent(), new RegExp(`from this address \\(${user.email}\\) to another one`));
  await p.context().close();
});

test("English: changing the password asks for a fresh step (password and SMS code) and the current password, signs the other browser out, and gives this one a new session cookie value", async () => {
  const user = info.users.mfa;
  const a = (await device("en-US")).p;
  await openForm(a, `${info.demo_app}/hc/en-us`);
  await passwordSignIn(a, user, { sms: true });
  await a.waitForURL(`${info.demo_app}/hc/en-us`);
  const b = (await device("en-US")).p;
  await openForm(b, `${info.demo_app}/hc/en-us`);
  await passwordSignIn(b, user, { sms: true });
  await b.waitForURL(`${info.demo_app}/hc/en-us`);

  await a.goto(`${info.api}/account`);
  await a.waitForURL((url) => url.href.startsWith(`${info.form}/account.html`));
  await a.locator("#session-list li").nth(1).waitFor();
  assert.equal(await a.locator("#password-form").isVisible(), false, "no change before the fresh step");
  await reauth(a, "Password", user.password);
  await a.locator("#reauth-code").waitFor();
  assert.match(await a.locator("#reauth-code-hint").textContent(), /^Enter the code we sent/);
  await reauthCode(a, "123456");
  const form = a.locator("#password-form");
  await form.getByLabel("Current password").fill("Not-The-Passw0rd!");
  await form.getByLabel("New password", { exact: true }).fill("Changed-Passw0rd!");
  await form.getByLabel("New password again").fill("Changed-Passw0rd!");
  await form.getByRole("button", { name: "Change password" }).click();
  await a.getByRole("alert").filter({ hasText: "Incorrect email or password." }).waitFor();
  const sessionCookie = async () => (await a.context().cookies(info.api)).find((c) => c.name === "__Host-bridge_session");
  const before = await sessionCookie();
  await form.getByLabel("Current password").fill(user.password);
  await form.getByRole("button", { name: "Change password" }).click();
  // The browser takes up its session's new cookie value and the page opens again with it: the
  // notice, one session (this one), and the fresh step to make another change.
  await a.getByRole("status").filter({ hasText: "Password changed. Your other sessions were signed out." }).waitFor();
  await shot(a, "en-account-password-changed");
  await a.locator("#session-list li").first().waitFor();
  assert.equal(await a.locator("#session-list li").count(), 1, "the other session left the list");
  assert.equal(await a.locator("#password-form").isVisible(), false, "another change needs a fresh step again");
  assert.equal(new URL(a.url()).hash, "", "the grant left the address bar");
  const after = await sessionCookie();
  assert.ok(after && after.value !== before.value && after.httpOnly, "a new session cookie value");
  // The old value, copied to another browser (a thief's), opens nothing.
  const thief = (await device("en-US")).p;
  await thief.context().addCookies([{ ...before }]);
  await thief.goto(`${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/en-us")}`);
  await thief.waitForURL((url) => url.href.startsWith(info.form));
  await thief.context().close();

  // The other browser is signed out; the new password signs it in again (after the second in
  // which sign-ins authenticated before the change are refused: SessionStore::settle).
  await new Promise((resolve) => setTimeout(resolve, 2100));
  await b.goto(`${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/en-us")}`);
  await b.waitForURL((url) => url.href.startsWith(info.form));
  await passwordSignIn(b, { ...user, password: "Changed-Passw0rd!" }, { sms: true });
  await b.waitForURL(`${info.demo_app}/hc/en-us`);
  assert.equal(await b.locator("#who").textContent(), `Signed in as ${user.name}`);
  // The person is told, in their language (their locale is Japanese, whatever the browser's).
  const notice = await inboxMessage(b, user.email, "パスワードが変更されました");
  assert.match(await notice.locator("pre.text").textContent(), /アカウントページで変更されました/);
  await a.context().close();
  await b.context().close();
});

test("Japanese: the name and language changed on the account page, then the account deleted for good", async () => {
  const user = info.users.guarded;
  const p = (await device("ja-JP")).p;
  p.on("dialog", (dialog) => dialog.accept());
  await openAccount(p, user, "/hc/ja");
  await elevate(p, user, "パスワード");
  const profile = p.locator("#profile-form");
  await profile.getByLabel("お名前").fill("  ");
  await profile.getByRole("button", { name: "保存" }).click();
  await p.getByRole("alert").filter({ hasText: "お名前を入力してください（100文字以内）。" }).waitFor();
  await profile.getByLabel("お名前").fill("佐藤 三郎");
  await profile.getByLabel("言語").selectOption("en");
  await profile.getByRole("button", { name: "保存" }).click();
  // Saved: the page now speaks the chosen language.
  await p.getByRole("status").filter({ hasText: "Saved. Apps see your new name from your next sign-in." }).waitFor();
  assert.equal(await p.locator("#profile-name").textContent(), "佐藤 三郎");
  assert.equal(await p.locator("#profile-language").textContent(), "English");

  const remove = p.locator("#delete-form");
  await remove.getByLabel("Type your email address to confirm").fill("someone.else@example.com");
  await remove.getByRole("button", { name: "Delete my account" }).click();
  await p.getByRole("alert").filter({ hasText: "Type your email address exactly to confirm." }).waitFor();
  await remove.getByLabel("Type your email address to confirm").fill(user.email);
  await remove.getByRole("button", { name: "Delete my account" }).click();
  await p.getByRole("status").filter({ hasText: "Your account has been deleted." }).waitFor();
  await shot(p, "en-account-deleted");

  // Signed out of the bridge (the app's own session is the app's), and the password opens
  // nothing any more.
  await openForm(p, `${info.api}/sso/${info.app_id}?return_to=${encodeURIComponent(info.demo_app + "/hc/ja")}`);
  await passwordSignIn(p, user);
  await p.getByRole("alert").filter({ hasText: "Incorrect email or password." }).waitFor();
  await p.context().close();
});
