// Find a person by email, then their page; admins also invite a person (Cognito mails them a
// temporary password in the language chosen) and land on their page.
import { useState } from "preact/hooks";
import { useLocation } from "wouter-preact";
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { flash, may, useMe } from "../session.js";
import { ErrorAlert } from "../components/Messages.jsx";

const LANGUAGES = ["ja", "en"];

/** Admins' form: email, an optional name, the invitation's language. */
function Invite() {
  const { t, lang } = useI18n();
  const [, navigate] = useLocation();
  const [values, setValues] = useState({ email: "", name: "", language: LANGUAGES.includes(lang) ? lang : "en" });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const set = (field) => (e) => setValues({ ...values, [field]: e.currentTarget.value });

  const submit = async (e) => {
    e.preventDefault();
    const email = values.email.trim();
    if (!email) return;
    setBusy(true);
    setError(null);
    try {
      const name = values.name.trim();
      const { data } = await api("/people", { method: "POST", body: { email, ...(name ? { name } : {}), language: values.language } });
      flash({ key: "people.invitedDone", values: { who: data.email || data.username } });
      navigate(`/people/${encodeURIComponent(data.username)}`);
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} aria-labelledby="invite-heading" novalidate>
      <h2 id="invite-heading">{t("people.invite")}</h2>
      <p class="muted small">{t("people.inviteIntro")}</p>
      <label for="invite-email">{t("people.email")}</label>
      <input id="invite-email" type="email" autoComplete="off" spellcheck={false} value={values.email} onInput={set("email")} required />
      <label for="invite-name">
        {t("people.name")} <small class="muted">({t("people.optional")})</small>
      </label>
      <input id="invite-name" type="text" autoComplete="off" maxLength={100} value={values.name} onInput={set("name")} />
      <label for="invite-language">{t("people.language")}</label>
      <select id="invite-language" value={values.language} onChange={set("language")}>
        {LANGUAGES.map((l) => (
          <option key={l} value={l}>
            {t(`people.languages.${l}`)}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy} aria-busy={busy ? "true" : undefined}>
        {t("people.sendInvitation")}
      </button>
      <ErrorAlert error={error} />
    </form>
  );
}

export function People() {
  const { t } = useI18n();
  const me = useMe();
  const [, navigate] = useLocation();
  const [email, setEmail] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);

  const submit = async (e) => {
    e.preventDefault();
    const wanted = email.trim();
    if (!wanted) return;
    setBusy(true);
    setError(null);
    try {
      const { data } = await api("/people", { query: { email: wanted } });
      navigate(`/people/${encodeURIComponent(data.username)}`);
    } catch (err) {
      setError(err.code === "not_found" ? { code: "notFound", text: t("people.notFound", { email: wanted }) } : err);
      setBusy(false);
    }
  };

  return (
    <>
      <h1>{t("people.heading")}</h1>
      <form onSubmit={submit} role="search" aria-labelledby="find-heading" novalidate>
        <h2 id="find-heading">{t("people.find")}</h2>
        <label for="person-email">{t("people.email")}</label>
        <div role="group">
          <input id="person-email" type="email" name="email" autoComplete="off" spellcheck={false} value={email} onInput={(e) => setEmail(e.currentTarget.value)} required />
          <button type="submit" disabled={busy} aria-busy={busy ? "true" : undefined}>
            {t("people.search")}
          </button>
        </div>
      </form>
      {error && error.code === "notFound" ? (
        <div class="alert" role="alert">
          <p>{error.text}</p>
        </div>
      ) : (
        <ErrorAlert error={error} />
      )}
      {may(me, "change") && <Invite />}
    </>
  );
}
