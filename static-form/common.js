// What the sign-in form (app.js) and the account page (account.js) share: messages in the
// page's language, a form's busy submit, a top-level POST, and a link to a consent document's text. Loaded after i18n.js, before them.
window.BRIDGE_UI = {
  /** `key` (dotted: `errors.code_mismatch`) in `lang`, else in English, else the key; `{name}` filled from `values`. */
  translate(lang, key, values) {
    const messages = window.BRIDGE_MESSAGES;
    const find = (table) => key.split(".").reduce((o, k) => (o && o[k] !== undefined ? o[k] : undefined), table);
    const text = find(messages[lang]) !== undefined ? find(messages[lang]) : find(messages.en);
    return String(text !== undefined ? text : key).replace(/\{(\w+)\}/g, (_, name) => (values && values[name] !== undefined ? values[name] : ""));
  },

  /**
   * Runs `handler(form)` on `form`'s submit, one at a time, its submit button busy meanwhile
   * (its `data-busy` and `data-i18n` name its texts, through `t`). `before()` runs first and may
   * return false to stop (a message shown, a field missing).
   */
  onSubmit(form, t, before, handler) {
    const button = form.querySelector("button[type=submit]");
    const busy = (on) => {
      form.setAttribute("aria-busy", String(on));
      button.disabled = on;
      button.textContent = t(on ? button.dataset.busy : button.dataset.i18n);
    };
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (form.getAttribute("aria-busy") === "true" || before() === false) return;
      busy(true);
      try {
        await handler(form);
      } finally {
        busy(false);
      }
    });
  },

  /** A top-level POST of `fields` (name to value) to `action` through a hidden form; nothing unless `action` is http(s). */
  postTo(action, fields) {
    const url = new URL(action);
    if (url.protocol !== "https:" && url.protocol !== "http:") return;
    const form = document.createElement("form");
    form.method = "POST";
    form.action = url.href;
    Object.entries(fields || {}).forEach(([name, value]) => {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.appendChild(input);
    });
    document.body.appendChild(form);
    form.submit();
  },

  /** A link to `doc`'s text in `lang` (English when missing) opening in a new tab; null unless http(s). */
  documentLink(doc, lang, label) {
    const url = new URL(doc.url[lang] || doc.url.en);
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    const link = document.createElement("a");
    link.href = url.href;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    link.textContent = label;
    return link;
  },
};
