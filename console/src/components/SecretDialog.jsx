// A generated secret, shown once: a read-only field, a copy button, and the warning that it
// will not be shown again. Closing it drops the secret from the page. `title`, `note` and
// `label` name what it is (an app's secret by default); `extra` ({ label, value }) is a value
// to copy with it, such as the SCIM base URL a token is used at.
import { useState } from "preact/hooks";
import { useI18n } from "../i18n.jsx";
import { Dialog } from "./Dialog.jsx";

function CopyRow({ id, label, value, onCopied }) {
  const { t } = useI18n();
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      onCopied("secretShown.copied");
    } catch {
      onCopied("secretShown.copyFailed");
    }
  };
  return (
    <>
      <label for={id}>{label}</label>
      <div role="group" class="secret-row">
        <input id={id} class="mono" type="text" readOnly value={value || ""} autoComplete="off" spellcheck={false} onFocus={(e) => e.currentTarget.select()} />
        <button type="button" class="secondary" onClick={copy}>
          <span aria-hidden="true">{t("secretShown.copy")}</span>
          <span class="visually-hidden">{t("secretShown.copyWhat", { what: label })}</span>
        </button>
      </div>
    </>
  );
}

export function SecretDialog({ secret, onClose, title, note, label, extra }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(null);
  const done = () => {
    setCopied(null);
    onClose();
  };
  return (
    <Dialog
      open={Boolean(secret)}
      onClose={done}
      title={title || t("secretShown.title")}
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
        <strong>{note || t("secretShown.note")}</strong>
      </p>
      <CopyRow id="shown-secret" label={label || t("secretShown.label")} value={secret} onCopied={setCopied} />
      {extra && <CopyRow id="shown-extra" label={extra.label} value={extra.value} onCopied={setCopied} />}
      <p role="status" class="notice" hidden={!copied}>
        {copied ? t(copied) : ""}
      </p>
    </Dialog>
  );
}
