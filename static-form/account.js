// The account page: opened by the API's `GET /account` with a grant in the URL's fragment (the
// page takes it out of the address bar at once). It shows the person and their sessions, ends
// sessions, and after a fresh sign-in step (password, then the code Cognito asks for) lists,
// adds (WebAuthn) and removes passkeys. Every call goes to the API's JSON routes.
(() => {
  "use strict";
  const api = (window.BRIDGE_CONFIG && window.BRIDGE_CONFIG.apiUrl || "").replace(/\/$/, "");
  const messages = window.BRIDGE_MESSAGES;
  const $ = (id) => document.getElementById(id);
  const grant = new URLSearchParams(location.hash.slice(1)).get("grant");
  history.replaceState(null, "", location.pathname);
  let lang = String(localStorage.getItem("bridge.lang") || (navigator.languages || [navigator.language || "en"])[0] || "en").startsWith("ja") ? "ja" : "en";
  let elevated = null;      // the fresh sign-in step's grant
  let reauthFlow = null;    // the code step of that sign-in
  let account = null;
  let passkeys = null;
  let lastMessage = null;

  function t(key, values) {
    const find = (table) => key.split(".").reduce((o, k) => (o && o[k] !== undefined ? o[k] : undefined), table);
    const text = find(messages[lang]);
    return String(text !== undefined ? text : find(messages.en) !== undefined ? find(messages.en) : key)
      .replace(/\{(\w+)\}/g, (_, name) => (values && values[name] !== undefined ? values[name] : ""));
  }

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

  function render() {
    document.documentElement.lang = lang;
    document.title = t("accountTitle");
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    document.querySelectorAll("[data-lang]").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
    if (account) renderAccount();
    if (passkeys) renderPasskeys();
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
    ["profile", "sessions", "passkeys"].forEach((id) => { $(id).hidden = false; });
  }

  function renderPasskeys() {
    const list = $("passkey-list");
    list.textContent = "";
    passkeys.forEach((p) => {
      list.appendChild(row(t("passkeyLine", { name: p.name, since: when(p.created) }), button(t("removePasskey"), async () => {
        const result = await call("/account/passkeys/remove", { elevated, id: p.id });
        if (result.error) return failed(result);
        show("notice", "passkeyRemoved");
        loadPasskeys();
      })));
    });
    $("no-passkeys").hidden = passkeys.length > 0;
  }

  // A grant or fresh step that has ended: the step again (or, for the page's own grant, a message).
  function failed(result) {
    if (result.error === "not_signed_in" && elevated) {
      elevated = null;
      $("passkey-manager").hidden = true;
      $("reauth").hidden = false;
    }
    show("error", errorKey(result.error));
  }

  async function load() {
    const result = await call("/account/view", { grant });
    if (result.error) return show("error", errorKey(result.error));
    account = result;
    renderAccount();
  }

  async function loadPasskeys() {
    const result = await call("/account/passkeys", { elevated });
    if (result.error) return failed(result);
    passkeys = result.passkeys;
    $("reauth").hidden = true;
    $("reauth-code").hidden = true;
    $("passkey-manager").hidden = false;
    renderPasskeys();
  }

  function reauthenticated(result) {
    if (result.status === "elevated") {
      elevated = result.elevated;
      return loadPasskeys();
    }
    if (result.status === "challenge") {
      reauthFlow = result.flow;
      $("reauth").hidden = true;
      $("reauth-code").hidden = false;
      $("reauth-code-hint").textContent = result.challenge === "verify_email" ? t("reauthEmailHint", { destination: result.destination || "" })
        : result.destination ? t("codeSentTo", { destination: result.destination }) : t("totpHint");
      return $("reauth-code-input").focus();
    }
    show("error", errorKey(result.error));
  }

  function start() {
    document.querySelectorAll("[data-lang]").forEach((b) => b.addEventListener("click", () => {
      lang = b.dataset.lang;
      localStorage.setItem("bridge.lang", lang);
      render();
    }));
    render();
    if (!grant) return show("error", "accountNoGrant");
    load();
    $("end-others").addEventListener("click", async () => {
      clearMessages();
      const result = await call("/account/sessions/end-others", { grant });
      if (result.error) return show("error", errorKey(result.error));
      show("notice", "othersEnded", { count: result.ended });
      load();
    });
    $("reauth").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessages();
      reauthenticated(await call("/account/reauth", { grant, password: $("reauth-password").value }));
      $("reauth-password").value = "";
    });
    $("reauth-code").addEventListener("submit", async (event) => {
      event.preventDefault();
      clearMessages();
      reauthenticated(await call("/account/reauth/answer", { flow: reauthFlow, code: $("reauth-code-input").value.trim() }));
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
      loadPasskeys();
    });
  }

  start();
})();
