// The account page: opened by the API's `GET /account` with a grant in the URL's fragment (the
// page takes it out of the address bar at once). It shows the apps the person may open, the
// person, their sessions and the apps that keep them signed in, and ends sessions and those. After a fresh sign-in step (password, then the
// code Cognito asks for, or one emailed) it changes the profile, the password, the second
// factors and the passkeys, and deletes the account. Every call goes to the API's JSON routes;
// the API decides what is allowed.
(() => {
  "use strict";
  const api = (window.BRIDGE_CONFIG && window.BRIDGE_CONFIG.apiUrl || "").replace(/\/$/, "");
  const messages = window.BRIDGE_MESSAGES;
  const $ = (id) => document.getElementById(id);
  const opened = new URLSearchParams(location.hash.slice(1));
  const grant = opened.get("grant");
  history.replaceState(null, "", location.pathname);
  let lang = String(localStorage.getItem("bridge.lang") || (navigator.languages || [navigator.language || "en"])[0] || "en").startsWith("ja") ? "ja" : "en";
  let elevated = null;      // the fresh sign-in step's grant
  let reauthFlow = null;    // the code step of that sign-in
  let account = null;       // the person and their sessions (the page's grant)
  let settings = null;      // the account as Cognito keeps it (after the fresh step)
  let documents = null;     // the consent documents in force and the person's decisions
  let lastMessage = null;

  const t = (key, values) => window.BRIDGE_UI.translate(lang, key, values);

  function show(kind, key, values) {
    lastMessage = [kind, key, values];
    $("error").hidden = kind !== "error";
    $("notice").hidden = kind === "error";
    (kind === "error" ? $("error") : $("notice")).textContent = t(key, values);
  }

  function clearMessages() {
    lastMessage = null;
    $("error").hidden = true;
    $("notice").hidden = true;
  }

  function errorKey(code) {
    return messages.en.errors[code] ? "errors." + code : "errors.default";
  }

  async function call(path, body) {
    try {
      const response = await fetch(api + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      return await response.json();
    } catch (e) {
      return { error: "network" };
    }
  }

  const when = (seconds) => new Date(seconds * 1000).toLocaleString(lang === "ja" ? "ja-JP" : "en-GB");
  const languageName = (tag) => (tag === "ja" ? "日本語" : tag === "en" ? "English" : "");

  function render() {
    document.documentElement.lang = lang;
    document.title = t("accountTitle");
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
    if (account) renderAccount();
    if (settings) renderSettings();
    if (documents) renderConsents();
    if (lastMessage) show(...lastMessage);
  }

  function row(text, action) {
    const li = document.createElement("li");
    const span = document.createElement("span");
    span.textContent = text;
    li.appendChild(span);
    if (action) li.appendChild(action);
    return li;
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function renderAccount() {
    $("profile-name").textContent = account.name || "";
    $("profile-email").textContent = account.email || "";
    $("profile-language").textContent = languageName(account.language);
    $("profile-organisation").textContent = account.organisation || "";
    $("profile-organisation").hidden = $("profile-organisation-label").hidden = !account.organisation;
    $("company-note").hidden = !account.organisation;
    $("company-note").textContent = account.organisation ? t("companyNote", { company: account.organisation }) : "";
    renderApps();
    const list = $("session-list");
    list.textContent = "";
    account.sessions.forEach((s) => {
      const text = t("sessionLine", { method: t("method_" + s.method), since: when(s.created), seen: when(s.last_seen) }) + (s.current ? " " + t("thisSession") : "");
      list.appendChild(row(text, s.current ? null : button(t("endSession"), async () => {
        const result = await call("/account/sessions/end", { grant, id: s.id });
        if (result.error) return show("error", errorKey(result.error));
        show("notice", "sessionEnded");
        load();
      })));
    });
    renderConnected();
    ["profile", "sessions", "settings"].forEach((id) => { $(id).hidden = false; });
  }

  // The OpenID Connect apps that keep the person signed in (a refresh token each), each with a
  // way to end that: its refresh tokens are revoked.
  function renderConnected() {
    const list = $("connected-list");
    list.textContent = "";
    const connected = account.connected || [];
    connected.forEach((c) => {
      const text = t("connectedLine", { name: c.name, since: when(c.since), until: when(c.until) });
      const signOut = button(t("signOutApp"), async () => {
        signOut.disabled = true;
        const result = await call("/account/apps/sign-out", { grant, id: c.id });
        signOut.disabled = false;
        if (result.error) return show("error", errorKey(result.error));
        show("notice", "appSignedOut", { name: c.name });
        // Taken off here: the list is read from an index, which may show it a moment longer.
        account.connected = account.connected.filter((other) => other.id !== c.id);
        renderConnected();
      });
      signOut.setAttribute("aria-label", t("signOutApp") + ": " + c.name);
      list.appendChild(row(text, signOut));
    });
    $("connected").hidden = connected.length === 0;
  }

  // The apps the person may open: through the API's `/sso/{id}`, which signs them in with this
  // session and sends them to the app's home page, or (an app that begins its own sign-in, a
  // forum) to that page directly. Only http(s) links are made.
  function renderApps() {
    const list = $("app-list");
    list.textContent = "";
    const apps = account.apps || [];
    apps.forEach((app) => {
      const href = app.via === "bridge" ? api + "/sso/" + encodeURIComponent(app.id) + "?return_to=" + encodeURIComponent(app.url) : app.url;
      let url;
      try {
        url = new URL(href, location.href);
      } catch (e) {
        return;
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") return;
      const link = document.createElement("a");
      link.href = url.href;
      link.textContent = app.name;
      const li = document.createElement("li");
      li.appendChild(link);
      list.appendChild(li);
    });
    $("apps").hidden = apps.length === 0;
  }

  // Each document in force: a required one as accepted (or not), an optional one as a checkbox
  // that gives or withdraws it at once; each links to its text in this language.
  function renderConsents() {
    const list = $("consent-list");
    list.textContent = "";
    documents.forEach((doc) => {
      const li = document.createElement("li");
      const title = doc.title[lang] || doc.title.en;
      const label = document.createElement("label");
      if (doc.required) {
        label.textContent = t(doc.accepted ? "consentAccepted" : "consentNotAccepted", { title });
      } else {
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = doc.accepted;
        box.addEventListener("change", async () => {
          clearMessages();
          const result = await call("/account/consents/decide", { grant, document: doc.id, accepted: box.checked });
          if (result.error) {
            box.checked = !box.checked;
            return show("error", errorKey(result.error));
          }
          doc.accepted = box.checked;
          show("notice", box.checked ? "consentGiven" : "consentWithdrawn", { title });
        });
        label.append(box, " ", t("optionalDocument", { title }));
      }
      li.appendChild(label);
      const link = window.BRIDGE_UI.documentLink(doc, lang, t("readDocument"));
      if (link) li.appendChild(link);
      list.appendChild(li);
    });
    $("consents").hidden = documents.length === 0;
  }

  // A removal: the API call, then a notice and the settings read again.
  const remover = (path, body, notice) => async () => {
    clearMessages();
    const result = await call(path, Object.assign({ elevated }, body));
    if (result.error) return failed(result);
    show("notice", notice, { count: result.ended_sessions });
    loadSettings();
  };

  function renderSettings() {
    const managed = settings.managed;
    $("managed-note").hidden = !managed;
    $("managed-note").textContent = managed ? t("managedNote", { company: (account && account.organisation) || "" }) : "";
    $("profile-form").hidden = managed;
    $("email-form").hidden = managed;
    $("delete-form").hidden = managed;
    if (document.activeElement !== $("profile-name-input")) $("profile-name-input").value = settings.name || "";
    $("profile-language-input").value = settings.language === "ja" || settings.language === "en" ? settings.language : lang;

    const factors = $("factor-list");
    factors.textContent = "";
    const on = (factor) => settings.factors.includes(factor);
    if (on("software_token_mfa")) {
      factors.appendChild(row(t("factorAuthenticator"), button(t("remove"), remover("/account/factors/remove", { factor: "software_token_mfa" }, "factorRemoved"))));
    }
    if (settings.phone) {
      const text = t("factorSms", { phone: settings.phone }) + (settings.phone_verified ? "" : " " + t("phoneUnverified"));
      const turnOn = async () => {
        clearMessages();
        const result = await call("/account/sms/add", { elevated });
        if (result.error) return failed(result);
        show("notice", "factorAdded");
        loadSettings();
      };
      factors.appendChild(row(text, on("sms_mfa") ? button(t("remove"), remover("/account/factors/remove", { factor: "sms_mfa" }, "factorRemoved"))
        : settings.phone_verified ? button(t("turnOn"), turnOn) : null));
    }
    if (!factors.childElementCount) factors.appendChild(row(t("noFactors")));
    $("add-authenticator").hidden = on("software_token_mfa");

    const list = $("passkey-list");
    list.textContent = "";
    $("passkeys-unavailable").hidden = settings.passkeys !== null;
    $("add-passkey").hidden = settings.passkeys === null;
    (settings.passkeys || []).forEach((p) => {
      list.appendChild(row(t("passkeyLine", { name: p.name, since: when(p.created) }),
        button(t("removePasskey"), remover("/account/passkeys/remove", { id: p.id }, "passkeyRemoved"))));
    });
    $("no-passkeys").hidden = !settings.passkeys || settings.passkeys.length > 0;
  }

  // A grant or fresh step that has ended: the step again (or, for the page's own grant, a message).
  function failed(result) {
    if (result.error === "not_signed_in" && elevated) {
      elevated = null;
      settings = null;
      $("manager").hidden = true;
      $("reauth").hidden = false;
    }
    show("error", errorKey(result.error));
  }

  async function load() {
    const [result, consents] = await Promise.all([call("/account/view", { grant }), documents ? null : call("/account/consents", { grant })]);
    if (result.error) return show("error", errorKey(result.error));
    account = result;
    renderAccount();
    if (consents && consents.documents) {
      documents = consents.documents;
      renderConsents();
    }
  }

  async function loadSettings() {
    const result = await call("/account/settings", { elevated });
    if (result.error) return failed(result);
    settings = result;
    ["reauth", "reauth-choose", "reauth-code"].forEach((id) => { $(id).hidden = true; });
    $("manager").hidden = false;
    renderSettings();
  }

  function reauthenticated(result) {
    if (result.status === "elevated") {
      elevated = result.elevated;
      return loadSettings();
    }
    if (result.status === "challenge" && result.challenge === "select_mfa_type") {
      reauthFlow = result.flow;
      const choices = $("reauth-choices");
      choices.textContent = "";
      (result.options || []).forEach((option, i) => {
        const row = document.createElement("div");
        row.className = "choice";
        const input = document.createElement("input");
        Object.assign(input, { type: "radio", name: "reauth-choice", value: option, id: "reauth-choice-" + option, checked: i === 0 });
        const label = document.createElement("label");
        label.htmlFor = input.id;
        label.textContent = t("mfa_" + option);
        row.append(input, label);
        choices.appendChild(row);
      });
      $("reauth").hidden = true;
      $("reauth-choose").hidden = false;
      return;
    }
    if (result.status === "challenge") {
      reauthFlow = result.flow;
      $("reauth").hidden = true;
      $("reauth-choose").hidden = true;
      $("reauth-code").hidden = false;
      $("reauth-code-input").value = "";
      $("reauth-code-hint").textContent = result.challenge === "verify_email" ? t("reauthEmailHint", { destination: result.destination || "" })
        : result.challenge === "software_token_mfa" ? t("totpHint")
        : result.destination ? t("codeSentTo", { destination: result.destination }) : t("codeSent");
      return $("reauth-code-input").focus();
    }
    // A step that has ended: the password again.
    if (["challenge_expired", "not_signed_in", "too_many_attempts"].includes(result.error)) {
      ["reauth-choose", "reauth-code"].forEach((id) => { $(id).hidden = true; });
      $("reauth").hidden = false;
    }
    show("error", errorKey(result.error));
  }

  // A form's submit: messages cleared, then `handler`, the button busy meanwhile.
  const onSubmit = (id, handler) => window.BRIDGE_UI.onSubmit($(id), t, clearMessages, handler);

  function start() {
    document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => {
      lang = b.dataset.lang;
      localStorage.setItem("bridge.lang", lang);
      render();
    }));
    render();
    // Opened without a grant (a bookmark, the back button after the grant left the address
    // bar): the API opens the page again for a live session, else sends the person to sign in.
    if (!grant) return api ? location.replace(api + "/account") : show("error", "accountNoGrant");
    if (opened.get("changed") === "password") show("notice", "passwordChanged");
    load();
    $("end-others").addEventListener("click", async () => {
      clearMessages();
      const result = await call("/account/sessions/end-others", { grant });
      if (result.error) return show("error", errorKey(result.error));
      show("notice", "othersEnded", { count: result.ended });
      load();
    });
    onSubmit("reauth", async () => {
      reauthenticated(await call("/account/reauth", { grant, password: $("reauth-password").value }));
      $("reauth-password").value = "";
    });
    onSubmit("reauth-choose", async () => {
      const chosen = document.querySelector("input[name=reauth-choice]:checked");
      reauthenticated(await call("/account/reauth/answer", { flow: reauthFlow, choice: chosen ? chosen.value : "" }));
    });
    onSubmit("reauth-code", async () => {
      reauthenticated(await call("/account/reauth/answer", { flow: reauthFlow, code: $("reauth-code-input").value.trim() }));
    });
    onSubmit("profile-form", async () => {
      const chosen = $("profile-language-input").value;
      const result = await call("/account/profile", { elevated, name: $("profile-name-input").value, language: chosen });
      if (result.error) return failed(result);
      account.name = $("profile-name-input").value.trim();
      account.language = chosen;
      lang = chosen;
      localStorage.setItem("bridge.lang", lang);
      show("notice", "profileSaved");
      render();
      loadSettings();
    });
    // The change, sealed: it goes back with the code.
    let emailChange = null;
    onSubmit("email-form", async () => {
      const result = await call("/account/email/start", { elevated, email: $("email-input").value });
      if (result.error) return failed(result);
      emailChange = result.change;
      $("email-code-hint").textContent = t("codeSentTo", { destination: result.destination || "" });
      $("email-code").value = "";
      $("email-code-form").hidden = false;
      $("email-code").focus();
    });
    // The new address is the person's: every session has ended, this one too, so the page
    // shows only the notice (its grant opens nothing now).
    onSubmit("email-code-form", async () => {
      const result = await call("/account/email/verify", { elevated, change: emailChange, code: $("email-code").value.trim() });
      if (result.error) return failed(result);
      ["apps", "profile", "sessions", "consents", "settings"].forEach((id) => { $(id).hidden = true; });
      account = settings = documents = null;
      show("notice", "emailChanged", { email: result.email });
    });
    onSubmit("password-form", async () => {
      if ($("new-password").value !== $("new-password-again").value) return show("error", "passwordsDiffer");
      const result = await call("/account/password", { elevated, previous: $("current-password").value, proposed: $("new-password").value });
      if (result.error) return failed(result);
      ["current-password", "new-password", "new-password-again"].forEach((id) => { $(id).value = ""; });
      // This browser takes up its session's new cookie value (the old one now opens nothing),
      // and the API opens this page again with `changed=password`. Without a handoff this
      // session has ended: the API sends the browser to sign in again.
      if (result.handoff) window.BRIDGE_UI.postTo(api + "/session/handoff", { handoff: result.handoff });
      else location.assign(api + "/account");
    });
    $("add-authenticator").addEventListener("click", async () => {
      clearMessages();
      const setup = await call("/account/authenticator/start", { elevated });
      if (setup.error) return failed(setup);
      $("authenticator-secret").textContent = setup.secret.replace(/(.{4})/g, "$1 ").trim();
      if (setup.uri.startsWith("otpauth://")) $("authenticator-link").href = setup.uri;
      $("authenticator-code").value = "";
      $("authenticator-form").hidden = false;
      $("authenticator-code").focus();
    });
    onSubmit("phone-form", async () => {
      const result = await call("/account/phone/start", { elevated, phone: $("phone-input").value });
      if (result.error) return failed(result);
      $("phone-code-hint").textContent = t("codeSentTo", { destination: result.destination || "" });
      $("phone-code").value = "";
      $("phone-code-form").hidden = false;
      $("phone-code").focus();
      loadSettings();
    });
    onSubmit("phone-code-form", async () => {
      const result = await call("/account/phone/verify", { elevated, code: $("phone-code").value.trim() });
      if (result.error) return failed(result);
      $("phone-code-form").hidden = true;
      $("phone-input").value = "";
      show("notice", "phoneVerified");
      loadSettings();
    });
    onSubmit("authenticator-form", async () => {
      const result = await call("/account/authenticator/add", { elevated, code: $("authenticator-code").value.trim() });
      if (result.error) return failed(result);
      $("authenticator-form").hidden = true;
      show("notice", "factorAdded");
      loadSettings();
    });
    $("add-passkey").addEventListener("click", async () => {
      clearMessages();
      if (!window.PublicKeyCredential || !PublicKeyCredential.parseCreationOptionsFromJSON) return show("error", "passkeyUnsupported");
      const started = await call("/account/passkeys/start", { elevated });
      if (started.error) return failed(started);
      let credential;
      try {
        credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(started.public_key) });
      } catch (e) {
        return show("error", e && e.name === "InvalidStateError" ? "passkeyExists" : "passkeyCancelled");
      }
      const added = await call("/account/passkeys/add", { elevated, credential: credential.toJSON() });
      if (added.error) return failed(added);
      show("notice", "passkeyAdded");
      loadSettings();
    });
    onSubmit("delete-form", async () => {
      if (!window.confirm(t("deleteAreYouSure"))) return;
      const result = await call("/account/delete", { elevated, confirm: $("delete-confirm").value.trim() });
      if (result.error) return failed(result);
      elevated = null;
      account = null;
      settings = null;
      ["profile", "sessions", "consents", "settings"].forEach((id) => { $(id).hidden = true; });
      show("notice", "accountDeleted");
    });
  }

  start();
})();
