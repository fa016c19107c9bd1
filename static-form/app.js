// The login form: one page, one step visible at a time. It talks to the bridge's JSON API (with
// the bridge's session cookie) and, at the end, posts the app's token to the app with an
// auto-submitting form. Identifier first: the email, then `/login/identify` sends an
// organisation's people on to their company's provider and everyone else to the ways to sign in
// (password, passkey, a code by email), the one this browser used last first.
(() => {
  "use strict";
  const api = (window.BRIDGE_CONFIG && window.BRIDGE_CONFIG.apiUrl || "").replace(/\/$/, "");
  const messages = window.BRIDGE_MESSAGES;
  const params = new URLSearchParams(location.search);
  const ctx = params.get("ctx");
  const $ = (id) => document.getElementById(id);
  let lang = chooseLanguage();
  let flow = null;          // the sealed challenge state from the API
  let challenge = null;     // the current challenge's kind and destination
  let lastEmail = "";
  let method = null;        // the way this attempt signs in (remembered once it succeeds)
  let company = null;       // the company's sign-in offered beside the others ({method, url})
  // Back from the company's sign-in with an error: the email typed next is not sent there again
  // at once (someone on the company's domain the company does not know may use a password).
  const CORPORATE_ERRORS = ["not_provisioned", "corporate_outside_domain", "corporate_denied", "corporate_failed", "corporate_state",
    "corporate_unavailable", "corporate_email_unverified"];
  const corporateFailed = CORPORATE_ERRORS.includes(params.get("error"));
  let signUp = null;        // the sign-up's flow and destination, and the password chosen (kept here only)
  let lastMessage = null;   // [kind, key, values] so a language switch re-renders it
  let documents = {};       // the consent documents shown, by step id (re-rendered on a language switch)
  let consentFlow = null;   // the sealed consent step from the API
  let signUpDocuments = Promise.resolve();  // the documents sign-up shows, once loaded

  function chooseLanguage() {
    const wanted = params.get("lang") || localStorage.getItem("bridge.lang") ||
      ((navigator.languages || [navigator.language || "en"])[0] || "en");
    return String(wanted).toLowerCase().startsWith("ja") ? "ja" : "en";
  }

  const t = (key, values) => window.BRIDGE_UI.translate(lang, key, values);

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
    document.title = t("title");
    if (challenge) describeChallenge();
    if (signUp) $("confirm-hint").textContent = t("confirmHint", { destination: signUp.destination });
    Object.keys(documents).forEach((step) => renderDocuments(step, documents[step]));
    if (lastMessage) show(...lastMessage);
  }

  // The documents to accept, one checkbox each: a required one reads "I accept the ...", an
  // optional one is its title; each links to its text in this language. Ticks survive a re-render.
  function renderDocuments(step, list) {
    documents[step] = list;
    const box = $(step).querySelector("[data-documents]");
    const ticked = new Set(Array.from(box.querySelectorAll("input:checked")).map((i) => i.value));
    const rendered = box.childElementCount > 0;
    box.textContent = "";
    list.forEach((doc) => {
      const row = document.createElement("div");
      row.className = "choice";
      const input = document.createElement("input");
      input.type = "checkbox";
      input.value = doc.id;
      input.id = step + "-doc-" + doc.id;
      input.checked = rendered ? ticked.has(doc.id) : Boolean(doc.accepted);
      const label = document.createElement("label");
      label.htmlFor = input.id;
      const title = doc.title[lang] || doc.title.en;
      label.textContent = doc.required ? t("acceptDocument", { title }) : t("optionalDocument", { title });
      const link = window.BRIDGE_UI.documentLink(doc, lang, t("readDocument"));
      if (link) label.append(" ", link);
      row.append(input, label);
      box.appendChild(row);
    });
  }

  function ticked(step) {
    return Array.from($(step).querySelectorAll("[data-documents] input:checked")).map((i) => i.value);
  }

  function startConsent(result) {
    consentFlow = result.flow;
    renderDocuments("step-consent", result.documents || []);
    showStep("step-consent");
  }

  function show(kind, key, values) {
    lastMessage = [kind, key, values];
    const el = kind === "error" ? $("error") : $("notice");
    el.textContent = t(key, values);
    el.hidden = false;
  }

  function clearMessages() {
    lastMessage = null;
    $("error").hidden = true;
    $("notice").hidden = true;
  }

  function showStep(id) {
    document.querySelectorAll("[data-step]").forEach((f) => { f.hidden = f.id !== id; });
    const first = $(id).querySelector("input:not([hidden])");
    if (first) first.focus();
  }

  async function call(path, body) {
    let response;
    try {
      response = await fetch(api + path, body === undefined ? {} : {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body)
      });
    } catch (e) {
      return { error: "network" };
    }
    try {
      return await response.json();
    } catch (e) {
      return { error: "default" };
    }
  }

  function errorKey(code) {
    return messages.en.errors[code] ? "errors." + code : "errors.default";
  }

  // Where a sign-in step's answer leads: the app, another challenge, or an error.
  function proceed(result) {
    if (result.status === "redirect") return deliver(result);
    // Signed in: the API sets its session cookie on this top-level navigation, then goes on to the app.
    if (result.status === "signed_in" && method) localStorage.setItem("bridge.method", method);
    if (result.status === "signed_in") return deliver({ method: "POST", action: api + "/session/handoff", fields: { handoff: result.handoff } });
    if (result.status === "challenge" && result.challenge === "web_authn") return usePasskey(result);
    if (result.status === "challenge") return startChallenge(result);
    if (result.status === "confirm_sign_up") return startConfirm(result);
    if (result.status === "consent") return startConsent(result);
    if (result.error === "use_corporate") {
      $("corporate-email").value = $("sign-up-email").value || $("email").value;
      showStep("step-corporate");
      return show("error", errorKey(result.error));
    }
    if (result.error === "password_reset_required") {
      showStep("step-reset");
      return show("error", errorKey(result.error));
    }
    if (result.error === "challenge_expired") {
      flow = null;
      challenge = null;
      showStep(lastEmail ? "step-password" : "step-identify");
    }
    show("error", errorKey(result.error));
  }

  function deliver(result) {
    document.querySelectorAll("[data-step]").forEach((f) => { f.hidden = true; });
    $("redirecting").hidden = false;
    if (result.method === "GET") {
      const url = new URL(result.url);
      if (url.protocol === "https:" || url.protocol === "http:") location.assign(url.href);
      return;
    }
    window.BRIDGE_UI.postTo(result.action, result.fields);
  }

  // A passkey: the browser's own prompt (WebAuthn) with the options the API gave, then its
  // answer to the API. Cancelling, or no passkey for this site, is a message, not a failure.
  async function usePasskey(result) {
    if (!window.PublicKeyCredential || !PublicKeyCredential.parseRequestOptionsFromJSON) return show("error", "passkeyUnsupported");
    let credential;
    try {
      credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(result.public_key) });
    } catch (e) {
      return show("error", "passkeyCancelled");
    }
    proceed(await call("/login/challenge", { flow: result.flow, credential: credential.toJSON() }));
  }

  // The ways to sign in for the email typed first: the same for every address (the page never
  // learns whether an account exists), the one this browser last signed in with first.
  function showMethods(corporate) {
    company = corporate || null;
    $("with-company").hidden = !company;
    $("identity").textContent = lastEmail;
    $("password-username").value = lastEmail;
    $("password").value = "";
    const last = localStorage.getItem("bridge.method");
    const box = $("methods");
    ["password", "passkey", "email_code"].sort((a, b) => (b === last) - (a === last))
      .forEach((way) => box.appendChild(box.querySelector(`[data-method="${way}"]`)));
    box.querySelectorAll("[data-method] button").forEach((button, i) => {
      button.classList.toggle("secondary", Boolean(company) || i > 0);
      button.classList.toggle("primary", !company && i === 0 && button.type !== "submit");
    });
    showStep("step-password");
    if (company) return $("with-company").focus();
    (box.firstElementChild.dataset.method === "password" ? $("password") : box.firstElementChild.querySelector("button")).focus();
  }

  function startChallenge(result) {
    flow = result.flow;
    challenge = { kind: result.challenge, destination: result.destination, options: result.options || [], setup: result.setup || null };
    describeChallenge();
    if (challenge.kind === "new_password") return showStep("step-new-password");
    if (challenge.kind === "select_mfa_type") return showStep("step-choose");
    $("code").value = "";
    showStep("step-code");
  }

  // The pool's password rules (template.yaml), checked as the person types; the API checks again.
  const RULES = {
    length: (p) => p.length >= 10, lower: (p) => /[a-z]/.test(p), upper: (p) => /[A-Z]/.test(p), digit: (p) => /[0-9]/.test(p)
  };

  function checkRules() {
    const password = $("sign-up-password").value;
    let all = true;
    document.querySelectorAll("#password-rules [data-rule]").forEach((li) => {
      const met = RULES[li.dataset.rule](password);
      li.classList.toggle("met", met);
      all = all && met;
    });
    return all;
  }

  // The code step of a sign-up (or of a sign-in of an account not confirmed yet).
  function startConfirm(result) {
    signUp = { flow: result.flow, destination: result.destination, password: signUp ? signUp.password : $("password").value };
    $("confirm-hint").textContent = t("confirmHint", { destination: result.destination });
    $("confirm-code").value = "";
    showStep("step-confirm");
  }

  function describeChallenge() {
    const d = challenge.destination;
    const hint = challenge.kind === "totp_setup" ? t("totpSetupHint")
      : challenge.kind === "verify_email" ? t("verifyEmailHint", { destination: d || "" })
      : challenge.kind === "software_token_mfa" ? t("totpHint")
      : challenge.kind === "email_otp" ? t("emailOtpHint", { destination: d || "" })
      : d ? t("codeSentTo", { destination: d }) : t("codeSent");
    $("code-hint").textContent = hint;
    const setup = challenge.kind === "totp_setup" && challenge.setup;
    $("totp-setup").hidden = !setup;
    $("totp-secret").textContent = setup ? setup.secret.replace(/(.{4})/g, "$1 ").trim() : "";
    if (setup && setup.uri.startsWith("otpauth://")) $("totp-link").href = setup.uri;
    const choices = $("choices");
    choices.textContent = "";
    challenge.options.forEach((option, i) => {
      const row = document.createElement("div");
      row.className = "choice";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = "choice";
      input.value = option;
      input.id = "choice-" + option;
      input.checked = i === 0;
      const label = document.createElement("label");
      label.htmlFor = input.id;
      label.textContent = t("mfa_" + option);
      row.append(input, label);
      choices.appendChild(row);
    });
  }

  // A step's submit: messages cleared, every required field filled, then `handler`.
  function onSubmit(id, handler) {
    const form = $(id);
    window.BRIDGE_UI.onSubmit(form, t, () => {
      clearMessages();
      const missing = Array.from(form.querySelectorAll("input[required]")).some((i) => !i.value.trim());
      if (!missing) return true;
      show("error", "fillIn");
      return false;
    }, handler);
  }

  function start() {
    document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => {
      lang = b.dataset.lang;
      localStorage.setItem("bridge.lang", lang);
      applyLanguage();
    }));
    applyLanguage();
    onSubmit("step-consent", async () => {
      proceed(await call("/consent", { flow: consentFlow, accepted: ticked("step-consent") }));
    });
    // Back from a company's sign-in that needs consent first: the step, then on as any sign-in.
    const consent = params.get("consent");
    if (consent) {
      // Out of the address bar and the browser's history: the step is this person's alone.
      params.delete("consent");
      history.replaceState(null, "", location.pathname + (params.toString() ? "?" + params : ""));
      return call("/consent/show", { flow: consent }).then((result) => {
        if (result.status !== "consent") document.querySelectorAll("[data-step]").forEach((f) => { f.hidden = true; });
        proceed(result);
      });
    }
    if (!ctx) {
      document.querySelectorAll("[data-step]").forEach((f) => { f.hidden = true; });
      if (params.get("notice") === "account_sign_in") return show("notice", "accountSignIn");
      return show("error", "noContext");
    }
    const notice = params.get("notice");
    if (notice === "signed_out") show("notice", "signedOut");
    if (notice === "app_error") show("notice", "appError");
    const error = params.get("error");
    if (error) show("error", errorKey(error));

    onSubmit("step-identify", async () => {
      lastEmail = $("email").value.trim();
      const result = await call("/login/identify", { ctx, email: lastEmail });
      if (result.status === "sign_in") return showMethods(result.corporate);
      if (result.status === "redirect" && corporateFailed) return showMethods(result);
      proceed(result);
    });
    onSubmit("step-password", async () => {
      method = "password";
      proceed(await call("/login", { ctx, email: lastEmail, password: $("password").value }));
    });
    // Without a password: the email typed first, then a passkey or a code by email.
    const withoutPassword = (path, way) => async () => {
      clearMessages();
      if (!lastEmail) return show("error", "enterEmail");
      method = way;
      proceed(await call(path, { ctx, email: lastEmail }));
    };
    $("with-passkey").addEventListener("click", withoutPassword("/login/passkey", "passkey"));
    $("with-code").addEventListener("click", withoutPassword("/login/code", "email_code"));
    $("with-company").addEventListener("click", () => { if (company) deliver(company); });
    $("not-you").addEventListener("click", () => {
      clearMessages();
      $("password").value = "";
      showStep("step-identify");
    });
    onSubmit("step-code", async () => {
      proceed(await call("/login/challenge", { flow, code: $("code").value.trim() }));
    });
    onSubmit("step-choose", async () => {
      const chosen = document.querySelector("input[name=choice]:checked");
      proceed(await call("/login/challenge", { flow, choice: chosen ? chosen.value : "" }));
    });
    onSubmit("step-new-password", async () => {
      if ($("new-password").value !== $("new-password-again").value) return show("error", "passwordsDiffer");
      proceed(await call("/login/challenge", { flow, new_password: $("new-password").value }));
    });
    onSubmit("step-forgot", async () => {
      lastEmail = $("forgot-email").value.trim();
      const result = await call("/password/forgot", { ctx, email: lastEmail });
      if (result.status === "code_sent") {
        showStep("step-reset");
        return show("notice", "resetCodeSent");
      }
      show("error", errorKey(result.error));
    });
    onSubmit("step-reset", async () => {
      const email = lastEmail || $("email").value.trim();
      proceed(await call("/password/reset", { ctx, email, code: $("reset-code").value.trim(), new_password: $("reset-password").value }));
    });
    // A code lost, spent or expired (an admin's reset mails one too): another, as "Forgot your password?" sends it.
    $("reset-resend").addEventListener("click", async () => {
      const button = $("reset-resend");
      if (button.disabled) return;
      clearMessages();
      button.disabled = true;
      try {
        const result = await call("/password/forgot", { ctx, email: lastEmail || $("email").value.trim() });
        if (result.status !== "code_sent") return show("error", errorKey(result.error));
        $("reset-code").value = "";
        show("notice", "resetCodeSent");
      } finally {
        button.disabled = false;
      }
    });
    onSubmit("step-sign-up", async () => {
      if (!checkRules()) return show("error", "passwordRules");
      await signUpDocuments;
      signUp = { password: $("sign-up-password").value };
      lastEmail = $("sign-up-email").value.trim();
      proceed(await call("/signup", {
        ctx, email: $("sign-up-email").value.trim(), password: signUp.password, name: $("sign-up-name").value.trim(), language: $("sign-up-language").value,
        accepted: ticked("step-sign-up")
      }));
    });
    onSubmit("step-confirm", async () => {
      proceed(await call("/signup/confirm", { flow: signUp.flow, code: $("confirm-code").value.trim(), password: signUp.password }));
    });
    $("resend-code").addEventListener("click", async () => {
      clearMessages();
      const result = await call("/signup/resend", { flow: signUp.flow });
      if (result.status === "code_sent") return show("notice", "codeResent");
      show("error", errorKey(result.error));
    });
    $("sign-up-password").addEventListener("input", checkRules);
    if (params.get("sign_up") === "open") {
      $("to-sign-up").hidden = false;
      $("to-sign-up").addEventListener("click", () => {
        clearMessages();
        $("sign-up-email").value = $("email").value;
        $("sign-up-language").value = lang;
        showStep("step-sign-up");
        // The operator's documents, ticked here and recorded at the first sign-in.
        signUpDocuments = call("/consent/documents").then((result) => {
          if (!result.documents || !result.documents.length) return;
          renderDocuments("step-sign-up", result.documents);
          $("sign-up-documents").hidden = false;
        });
      });
    }
    onSubmit("step-corporate", async () => {
      proceed(await call("/corporate/start", { ctx, email: $("corporate-email").value.trim() }));
    });
    $("to-corporate").addEventListener("click", () => {
      clearMessages();
      $("corporate-email").value = $("email").value;
      showStep("step-corporate");
    });
    // A code already emailed (the "you already have an account" email carries one): straight to the reset step.
    $("have-code").addEventListener("click", () => {
      clearMessages();
      lastEmail = $("forgot-email").value.trim();
      showStep("step-reset");
    });
    $("to-forgot").addEventListener("click", () => {
      clearMessages();
      $("forgot-email").value = $("email").value;
      showStep("step-forgot");
    });
    document.querySelectorAll("[data-back]").forEach((b) => b.addEventListener("click", () => { clearMessages(); signUp = null; showStep("step-identify"); }));
  }

  start();
})();
