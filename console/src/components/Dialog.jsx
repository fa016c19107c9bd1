// A modal <dialog> (showModal: focus moves into it and stays, Escape closes it); focus goes back
// to what opened it. `useQuestion`: a page's questions before its changes, each asked in one.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { useI18n } from "../i18n.jsx";
import { ErrorAlert } from "./Messages.jsx";

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

/**
 * The questions a page asks before its changes: `const [ask, question] = useQuestion({ questions })`;
 * `ask(action, arg)` opens one, `question` is the <Confirm> to render. Each of `questions` names
 * the keys of its `title`, `body` and `confirm` (filled with `values(arg)`), whether it is a
 * `danger`, its request `call(arg)` and `done(answer, arg)`, run once the request succeeded and
 * the question closed. A refused request stays in the question, said by `Alert` (ErrorAlert by
 * default) after `fail(error, show)`, which may read the page's resource again first.
 */
export function useQuestion({ questions, values = () => ({}), fail = (e, show) => show(e), Alert = ErrorAlert }) {
  const { t } = useI18n();
  const [asking, setAsking] = useState(null); // { action, arg }
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const question = asking && questions[asking.action];
  const filled = question ? values(asking.arg) : {};

  const ask = (action, arg) => {
    setError(null);
    setAsking({ action, arg });
  };

  const run = async () => {
    setBusy(true);
    setError(null);
    try {
      const answer = await question.call(asking.arg);
      setAsking(null);
      if (question.done) await question.done(answer, asking.arg);
    } catch (e) {
      await fail(e, setError);
    } finally {
      setBusy(false);
    }
  };

  return [
    ask,
    <Confirm
      t={t}
      open={Boolean(asking)}
      title={question ? t(question.title, filled) : ""}
      body={question ? t(question.body, filled) : ""}
      confirmLabel={question ? t(question.confirm, filled) : ""}
      danger={Boolean(question && question.danger)}
      busy={busy}
      error={<Alert error={error} />}
      onConfirm={run}
      onCancel={() => setAsking(null)}
    />,
  ];
}
