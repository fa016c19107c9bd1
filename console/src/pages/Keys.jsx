// The bridge's signing keys: each key's state from its times (as shared/src/tokens/
// signing_keys.rs decides it); admins rotate (with a lead) and prune retired keys.
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { may, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { useQuestion } from "../components/Dialog.jsx";
import { ErrorAlert, Loading, Notice, Time } from "../components/Messages.jsx";

const published = (k, now) => k.publish_from <= now && (k.retire_after == null || now < k.retire_after);

/** retired, scheduled, next (published, signs later), signing, or retiring (replaced). */
export function keyState(key, keys, now) {
  if (key.retire_after != null && key.retire_after <= now) return "retired";
  if (key.publish_from > now) return "scheduled";
  if (key.sign_from > now) return "next";
  const signing = keys.filter((k) => k.alg === key.alg && k.sign_from <= now && published(k, now)).sort((a, b) => b.sign_from - a.sign_from)[0];
  return signing && signing.kid === key.kid ? "signing" : "retiring";
}

function RotateForm({ onRotated }) {
  const { t } = useI18n();
  const [alg, setAlg] = useState("ES256");
  const [hours, setHours] = useState("24");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const lead = Math.round(Number(hours) * 3600);
  const valid = hours.trim() !== "" && Number.isFinite(lead) && lead >= 360 && lead <= 2_592_000;

  const submit = async (e) => {
    e.preventDefault();
    if (!valid) return;
    setBusy(true);
    setError(null);
    try {
      const { data } = await api("/keys/rotate", { method: "POST", body: { alg, lead_seconds: lead } });
      onRotated(data);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form onSubmit={submit} novalidate>
      <ErrorAlert error={error} />
      <div class="grid">
        <div>
          <label for="rotate-alg">{t("keys.alg")}</label>
          <select id="rotate-alg" value={alg} onChange={(e) => setAlg(e.currentTarget.value)}>
            <option value="ES256">ES256</option>
            <option value="RS256">RS256</option>
          </select>
        </div>
        <div>
          <label for="rotate-lead">{t("keys.lead")}</label>
          <input
            id="rotate-lead"
            type="number"
            inputMode="decimal"
            min="0.1"
            max="720"
            step="any"
            value={hours}
            onInput={(e) => setHours(e.currentTarget.value)}
            aria-invalid={valid ? undefined : "true"}
            aria-describedby={valid ? "rotate-lead-help" : "rotate-lead-error rotate-lead-help"}
          />
          {!valid && (
            <small id="rotate-lead-error" class="error-text">
              {t("keys.leadInvalid")}
            </small>
          )}
          <small id="rotate-lead-help">{t("keys.leadHelp")}</small>
        </div>
      </div>
      <button type="submit" disabled={busy || !valid} aria-busy={busy ? "true" : undefined}>
        {t("keys.rotate", { alg })}
      </button>
    </form>
  );
}

export function Keys() {
  const { t } = useI18n();
  const me = useMe();
  const keys = useResource("/keys");
  const [notice, setNotice] = useState(null);
  const canChange = may(me, "change");
  const now = Date.now() / 1000;
  const list = keys.data ? keys.data.keys : [];
  const retired = list.filter((k) => keyState(k, list, now) === "retired");

  const rotated = (key) => {
    setNotice({ key: "keys.rotated", values: { alg: key.alg, kid: key.kid, time: { at: key.sign_from } } });
    keys.reload();
  };
  const [ask, question] = useQuestion({
    questions: {
      prune: {
        title: "keys.pruneTitle",
        body: "keys.pruneBody",
        confirm: "keys.prune",
        danger: true,
        call: () => api("/keys/prune", { method: "POST" }),
        done: ({ data }) => {
          setNotice(data.pruned.length ? { key: "keys.pruned", values: { kids: data.pruned.join(", ") } } : { key: "keys.nothingPruned" });
          keys.reload();
        },
      },
    },
    values: () => ({ n: retired.length, kids: retired.map((k) => k.kid).join(", ") }),
  });

  return (
    <>
      <h1>{t("keys.heading")}</h1>
      <p class="muted">{t("keys.intro")}</p>
      <Notice notice={notice} />
      {keys.loading && !keys.data && <Loading />}
      <ErrorAlert error={keys.error} />
      {keys.data &&
        (list.length ? (
          <div class="overflow-auto">
            <table class="striped keys">
              <thead>
                <tr>
                  <th scope="col">{t("keys.kid")}</th>
                  <th scope="col">{t("keys.alg")}</th>
                  <th scope="col">{t("keys.state")}</th>
                  <th scope="col">{t("keys.publishFrom")}</th>
                  <th scope="col">{t("keys.signFrom")}</th>
                  <th scope="col">{t("keys.retireAfter")}</th>
                </tr>
              </thead>
              <tbody>
                {[...list]
                  .sort((a, b) => b.publish_from - a.publish_from)
                  .map((k) => {
                    const state = keyState(k, list, now);
                    return (
                      <tr key={k.kid}>
                        <th scope="row">
                          <code class="kid">{k.kid}</code>
                        </th>
                        <td>{k.alg}</td>
                        <td>
                          <span class={`state state-${state}`}>{t(`keys.states.${state}`)}</span>
                        </td>
                        <td>
                          <Time at={k.publish_from} />
                        </td>
                        <td>
                          <Time at={k.sign_from} />
                        </td>
                        <td>{k.retire_after != null ? <Time at={k.retire_after} /> : t("keys.never")}</td>
                      </tr>
                    );
                  })}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{t("keys.empty")}</p>
        ))}
      {canChange && keys.data && (
        <div class="grid two">
          <section aria-labelledby="rotate-heading">
            <h2 id="rotate-heading">{t("keys.rotateHeading")}</h2>
            <p class="muted small">{t("keys.rotateIntro")}</p>
            <RotateForm onRotated={rotated} />
          </section>
          <section aria-labelledby="prune-heading">
            <h2 id="prune-heading">{t("keys.pruneHeading")}</h2>
            <p class="muted small">{t("keys.pruneIntro")}</p>
            {!retired.length && <p class="small">{t("keys.nothingToPrune")}</p>}
            <button type="button" class="secondary" disabled={!retired.length} onClick={() => ask("prune")}>
              {t("keys.prune")}
            </button>
          </section>
        </div>
      )}
      {question}
    </>
  );
}
