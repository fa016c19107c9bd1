// A new app (admin). A generated secret comes back once: shown in a dialog with a copy button,
// then gone.
import { useState } from "preact/hooks";
import { Link, useLocation } from "wouter-preact";
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { flash, may, useMe } from "../session.js";
import { AppForm } from "../components/AppForm.jsx";
import { SecretDialog } from "../components/SecretDialog.jsx";

export function NewApp() {
  const { t } = useI18n();
  const me = useMe();
  const [, navigate] = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [created, setCreated] = useState(null);

  if (!may(me, "change")) {
    return (
      <>
        <h1>{t("appForm.newHeading")}</h1>
        <p class="muted">{t("apps.readOnly")}</p>
        <Link href="/apps">{t("app.back")}</Link>
      </>
    );
  }

  const toApp = (id) => {
    flash({ key: "apps.created", values: { id } });
    navigate(`/apps/${encodeURIComponent(id)}`);
  };

  const submit = async (body) => {
    setBusy(true);
    setError(null);
    try {
      const { data } = await api("/apps", { method: "POST", body });
      if (data.secret) setCreated({ id: data.app.id, secret: data.secret });
      else toApp(data.app.id);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <p class="crumbs">
        <Link href="/apps">{t("app.back")}</Link>
      </p>
      <h1>{t("appForm.newHeading")}</h1>
      <AppForm mode="create" busy={busy || Boolean(created)} error={error} onSubmit={submit} onCancel={() => navigate("/apps")} />
      <SecretDialog secret={created && created.secret} onClose={() => created && toApp(created.id)} />
    </>
  );
}
