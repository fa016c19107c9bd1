// Find a person by email, then their page.
import { useState } from "preact/hooks";
import { useLocation } from "wouter-preact";
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { ErrorAlert } from "../components/Messages.jsx";

export function People() {
  const { t } = useI18n();
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
    </>
  );
}
