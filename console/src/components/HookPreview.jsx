// Preview and send (admins): the request the bridge would send a hook for a person and a request
// type, with a random code (POST /hooks/{name}/preview: nothing is sent), shown as JSON the admin
// may edit (checked as typed and before sending), then sent once (POST /hooks/{name}/send): the
// HTTP status, the outcome as the sender reads it, the time and the hook's answer.
import { useEffect, useId, useRef, useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { HookError } from "./HookForm.jsx";

export const REQUEST_TYPES = ["mfa-verification", "pre-enrollment", "password-reset"];
const pretty = (value) => JSON.stringify(value, null, 2);

/** The request typed: `{ value }` (a JSON object) or `{ error }`. */
function parseRequest(text, t) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { error: t("hookPreview.invalidJson", { detail: e.message }) };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) return { error: t("hookPreview.notObject") };
  return { value };
}

function Outcome({ outcome }) {
  const { t } = useI18n();
  if (outcome === "delivered") return <span class="state state-signing outcome">{t("hookPreview.delivered")}</span>;
  const why = String(outcome || "").replace(/^failed:\s*/, "");
  return <span class="state state-failed outcome">{t("hookPreview.failed", { why })}</span>;
}

function Answer({ answer, heading }) {
  const { t, number } = useI18n();
  const body = answer.body === null || answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : pretty(answer.body);
  return (
    <section aria-labelledby="answer-heading" class="answer">
      <h3 id="answer-heading" tabindex="-1" ref={heading}>
        {t("hookPreview.answer")}
      </h3>
      <dl class="facts">
        <div>
          <dt>{t("hookPreview.outcome")}</dt>
          <dd>
            <Outcome outcome={answer.outcome} />
          </dd>
        </div>
        <div>
          <dt>{t("hookPreview.status")}</dt>
          <dd class="http-status">{answer.status === null || answer.status === undefined ? t("hookPreview.noStatus") : answer.status}</dd>
        </div>
        <div>
          <dt>{t("hookPreview.time")}</dt>
          <dd class="millis">{t("hookPreview.millis", { ms: number(answer.millis) })}</dd>
        </div>
        <div class="block">
          <dt>{t("hookPreview.body")}</dt>
          <dd>
            {body ? (
              <pre class="answer-body" tabindex="0">
                <code>{body}</code>
              </pre>
            ) : (
              <span class="muted">{t("hookPreview.emptyBody")}</span>
            )}
          </dd>
        </div>
      </dl>
    </section>
  );
}

export function HookPreview({ name }) {
  const { t } = useI18n();
  const uid = useId();
  const f = (n) => `${uid}-${n}`;
  const [user, setUser] = useState("");
  const [type, setType] = useState(REQUEST_TYPES[0]);
  const [userMissing, setUserMissing] = useState(false);
  const [request, setRequest] = useState(null); // the JSON text, once generated
  const [generated, setGenerated] = useState(null); // for whom: { user }
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(null); // "preview" | "send"
  const [error, setError] = useState(null);
  const [answer, setAnswer] = useState(null);
  const textarea = useRef(null);
  const answerHeading = useRef(null);

  const parsed = request === null ? null : parseRequest(request, t);
  const jsonError = parsed && parsed.error;
  const showJsonError = jsonError && (tried || request !== generated.text);

  useEffect(() => {
    if (answer && answerHeading.current) answerHeading.current.focus();
  }, [answer]);

  const preview = async (e) => {
    e.preventDefault();
    const who = user.trim();
    setUserMissing(!who);
    if (!who) return;
    setBusy("preview");
    setError(null);
    setAnswer(null);
    try {
      const { data } = await api(`/hooks/${seg(name)}/preview`, { method: "POST", body: { user: who, type } });
      const text = pretty(data.request);
      setRequest(text);
      setGenerated({ user: who, text });
      setTried(false);
      requestAnimationFrame(() => textarea.current && textarea.current.focus());
    } catch (err) {
      setError(err.code === "not_found" ? { code: "no_person", user: who } : err);
    } finally {
      setBusy(null);
    }
  };

  const send = async (e) => {
    e.preventDefault();
    setTried(true);
    const checked = parseRequest(request, t);
    if (checked.error) {
      textarea.current && textarea.current.focus();
      return;
    }
    setBusy("send");
    setError(null);
    setAnswer(null);
    try {
      const { data } = await api(`/hooks/${seg(name)}/send`, { method: "POST", body: { request: checked.value } });
      setAnswer(data);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(null);
    }
  };

  const describedBy = [f("request-help"), showJsonError && f("request-error")].filter(Boolean).join(" ");
  return (
    <section aria-labelledby="preview-heading" class="preview">
      <h2 id="preview-heading">{t("hookPreview.heading")}</h2>
      <p class="muted small">{t("hookPreview.intro")}</p>
      <form onSubmit={preview} novalidate class="preview-for">
        <div class="grid">
          <div class="field">
            <label for={f("user")}>{t("hookPreview.user")}</label>
            <input
              id={f("user")}
              name="user"
              value={user}
              onInput={(e) => setUser(e.currentTarget.value)}
              autoComplete="off"
              spellcheck={false}
              autocapitalize="off"
              aria-invalid={userMissing ? "true" : undefined}
              aria-describedby={userMissing ? `${f("user-error")} ${f("user-help")}` : f("user-help")}
            />
            {userMissing && (
              <small id={f("user-error")} class="error-text">
                {t("hookPreview.noUser")}
              </small>
            )}
            <small id={f("user-help")}>{t("hookPreview.userHelp")}</small>
          </div>
          <div class="field">
            <label for={f("type")}>{t("hookPreview.type")}</label>
            <select id={f("type")} name="type" value={type} onChange={(e) => setType(e.currentTarget.value)}>
              {REQUEST_TYPES.map((k) => (
                <option key={k} value={k}>
                  {t(`hookPreview.types.${k}`)} ({k})
                </option>
              ))}
            </select>
          </div>
        </div>
        <button type="submit" class="secondary" disabled={Boolean(busy)} aria-busy={busy === "preview" ? "true" : undefined}>
          {t("hookPreview.generate")}
        </button>
      </form>
      {error && error.code === "no_person" ? (
        <div class="alert" role="alert">
          <p>{t("hookPreview.noPerson", { user: error.user })}</p>
        </div>
      ) : (
        <HookError error={error} />
      )}
      {request !== null && (
        <form onSubmit={send} novalidate class="preview-send">
          <div class="field">
            <label for={f("request")}>{t("hookPreview.request", { user: generated.user })}</label>
            <textarea
              id={f("request")}
              ref={textarea}
              name="request"
              class="mono request-json"
              rows={18}
              value={request}
              onInput={(e) => setRequest(e.currentTarget.value)}
              spellcheck={false}
              autocapitalize="off"
              aria-invalid={showJsonError ? "true" : parsed && !jsonError && request !== generated.text ? "false" : undefined}
              aria-describedby={describedBy}
            />
            {showJsonError && (
              <small id={f("request-error")} class="error-text">
                {jsonError}
              </small>
            )}
            <small id={f("request-help")}>{t("hookPreview.requestHelp")}</small>
          </div>
          <div class="actions start">
            <button type="submit" disabled={Boolean(busy)} aria-busy={busy === "send" ? "true" : undefined}>
              {busy === "send" ? t("hookPreview.sending") : t("hookPreview.send", { name })}
            </button>
          </div>
        </form>
      )}
      {answer && <Answer answer={answer} heading={answerHeading} />}
    </section>
  );
}
