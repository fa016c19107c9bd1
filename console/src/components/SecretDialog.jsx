// A generated secret, shown once: a read-only field, a copy button, and the warning that it
// will not be shown again. Closing it drops the secret from the page.
import { useState } from "preact/hooks";
import { useI18n } from "../i18n.jsx";
import { Dialog } from "./Dialog.jsx";

export function SecretDialog({ secret, onClose }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied("secretShown.copied");
    } catch {
      setCopied("secretShown.copyFailed");
    }
  };
  const done = () => {
    setCopied(null);
    onClose();
  };
  return (
    <Dialog
      open={Boolean(secret)}
      onClose={done}
      title={t("secretShown.title")}
      describedBy="secret-note"
      actions={
        <div class="actions">
          <button type="button" onClick={done}>
            {t("secretShown.done")}
          </button>
        </div>
      }
    >
      <p id="secret-note">
        <strong>{t("secretShown.note")}</strong>
      </p>
      <label for="shown-secret">{t("secretShown.label")}</label>
      <div role="group" class="secret-row">
        <input id="shown-secret" class="mono" type="text" readOnly value={secret || ""} autoComplete="off" spellcheck={false} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="secondary" onClick={copy}>
          {t("secretShown.copy")}
        </button>
      </div>
      <p role="status" class="notice" hidden={!copied}>
        {copied ? t(copied) : ""}
      </p>
    </Dialog>
  );
}
