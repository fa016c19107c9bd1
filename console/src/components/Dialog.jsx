// A modal <dialog> (showModal: focus moves into it and stays, Escape closes it); focus goes back
// to what opened it.
import { useEffect, useId, useRef } from "preact/hooks";

export function Dialog({ open, onClose, title, children, actions, describedBy }) {
  const ref = useRef(null);
  const opener = useRef(null);
  const id = useId();
  const close = useRef(onClose);
  close.current = onClose;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) {
      opener.current = document.activeElement;
      dialog.showModal();
    } else if (!open && dialog.open) {
      dialog.close();
    }
  }, [open]);

  useEffect(() => {
    const dialog = ref.current;
    const onClosed = () => {
      const back = opener.current;
      opener.current = null;
      if (back && back.isConnected && typeof back.focus === "function") back.focus();
      close.current && close.current();
    };
    dialog.addEventListener("close", onClosed);
    return () => dialog.removeEventListener("close", onClosed);
  }, []);

  return (
    <dialog ref={ref} aria-labelledby={`${id}-title`} aria-describedby={describedBy}>
      <article>
        <header>
          <h2 id={`${id}-title`}>{title}</h2>
        </header>
        {open && children}
        {actions && <footer>{actions}</footer>}
      </article>
    </dialog>
  );
}

/** A question before a change: what will happen, and a button that does it. */
export function Confirm({ open, title, body, confirmLabel, danger, busy, error, onConfirm, onCancel, t }) {
  const id = useId();
  return (
    <Dialog
      open={open}
      onClose={onCancel}
      title={title}
      describedBy={`${id}-body`}
      actions={
        <div class="actions">
          <button type="button" class="secondary" onClick={onCancel} disabled={busy}>
            {t("cancel")}
          </button>
          <button type="button" class={danger ? "danger" : ""} onClick={onConfirm} aria-busy={busy ? "true" : undefined} disabled={busy}>
            {confirmLabel}
          </button>
        </div>
      }
    >
      <p id={`${id}-body`}>{body}</p>
      {error}
    </Dialog>
  );
}
