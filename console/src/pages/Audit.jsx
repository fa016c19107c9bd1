// The audit trail, newest first: filters as the API's query parameters (actor or target, type,
// a time range), a page at a time with the API's cursor. An actor given as an email is looked up
// (the API filters by the person's `sub`). #/audit/target/app:x opens it filtered.
import { useEffect, useRef, useState } from "preact/hooks";
import { api } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { messages } from "../messages.js";
import { AuditRecords } from "../components/AuditList.jsx";
import { ErrorAlert, Loading } from "../components/Messages.jsx";
import { decode } from "./App.jsx";

const TYPES = Object.keys(messages.en.audit.types);
const PAGE = 25;

/** `datetime-local` text (local time) as seconds since the epoch. */
const seconds = (local) => (local ? Math.floor(new Date(local).getTime() / 1000) : undefined);

export function Audit({ params }) {
  const by = params && (params.by === "actor" || params.by === "target") ? params.by : null;
  const value = by ? decode(params.value) : "";
  return <AuditTrail key={`${by}:${value}`} initial={{ actor: by === "actor" ? value : "", target: by === "target" ? value : "" }} />;
}

function AuditTrail({ initial }) {
  const { t } = useI18n();
  const [form, setForm] = useState({ actor: initial.actor, target: initial.target, type: "", since: "", until: "" });
  const [query, setQuery] = useState(null); // the API's filters, once resolved
  const [records, setRecords] = useState([]);
  const [cursor, setCursor] = useState(null);
  const [state, setState] = useState({ loading: false, error: null, problem: null, loaded: false });
  // Open on a laptop; on a phone only when the address set a filter.
  const [filtersOpen] = useState(() => Boolean(initial.actor || initial.target) || !window.matchMedia("(max-width: 575px)").matches);

  // Answers come back in any order: only the latest question's answer is shown.
  const asked = useRef(0);

  const load = async (filters, after) => {
    const mine = ++asked.current;
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const { data } = await api("/audit", { query: { ...filters, limit: PAGE, cursor: after || undefined } });
      if (mine !== asked.current) return;
      setRecords((r) => (after ? [...r, ...data.records] : data.records));
      setCursor(data.next_cursor || null);
      setState({ loading: false, error: null, problem: null, loaded: true });
    } catch (error) {
      if (mine === asked.current) setState({ loading: false, error, problem: null, loaded: true });
    }
  };

  const apply = async (values) => {
    const mine = ++asked.current;
    const actor = values.actor.trim();
    const target = values.target.trim();
    const since = seconds(values.since);
    const until = seconds(values.until);
    if (actor && target) return setState((s) => ({ ...s, loading: false, problem: t("audit.both") }));
    if (since !== undefined && until !== undefined && since >= until) return setState((s) => ({ ...s, loading: false, problem: t("audit.range") }));
    let actorId = actor;
    if (actor.includes("@")) {
      setState((s) => ({ ...s, loading: true, problem: null, error: null }));
      try {
        const { data } = await api("/people", { query: { email: actor } });
        if (mine !== asked.current) return;
        actorId = data.sub || data.username;
      } catch (error) {
        if (mine !== asked.current) return;
        return setState({ loading: false, error: error.code === "not_found" ? null : error, problem: error.code === "not_found" ? t("audit.unknownActor", { email: actor }) : null, loaded: true });
      }
    }
    const filters = { actor: actorId || undefined, target: target || undefined, type: values.type || undefined, since, until };
    setQuery(filters);
    setRecords([]);
    setCursor(null);
    load(filters);
  };

  useEffect(() => {
    apply(form);
    // The first page, with the filters the address gave.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  const set = (name) => (e) => setForm((f) => ({ ...f, [name]: e.currentTarget.value }));
  const submit = (e) => {
    e.preventDefault();
    apply(form);
  };
  const clear = () => {
    const empty = { actor: "", target: "", type: "", since: "", until: "" };
    setForm(empty);
    apply(empty);
  };

  return (
    <>
      <h1>{t("audit.heading")}</h1>
      <details class="filters" open={filtersOpen}>
        <summary>{t("audit.filters")}</summary>
        <form onSubmit={submit} novalidate>
          <div class="grid">
            <div>
              <label for="audit-actor">{t("audit.actor")}</label>
              <input id="audit-actor" name="actor" value={form.actor} onInput={set("actor")} autoComplete="off" spellcheck={false} aria-describedby="audit-actor-help" />
              <small id="audit-actor-help">{t("audit.actorHelp")}</small>
            </div>
            <div>
              <label for="audit-target">{t("audit.target")}</label>
              <input id="audit-target" name="target" value={form.target} onInput={set("target")} autoComplete="off" spellcheck={false} aria-describedby="audit-target-help" />
              <small id="audit-target-help">{t("audit.targetHelp")}</small>
            </div>
          </div>
          <div class="grid">
            <div>
              <label for="audit-type">{t("audit.type")}</label>
              <select id="audit-type" name="type" value={form.type} onChange={set("type")}>
                <option value="">{t("audit.anyType")}</option>
                {TYPES.map((type) => (
                  <option key={type} value={type}>
                    {t(`audit.types.${type}`)} ({type})
                  </option>
                ))}
              </select>
            </div>
            <div>
              <label for="audit-since">{t("audit.since")}</label>
              <input id="audit-since" name="since" type="datetime-local" step="1" value={form.since} onInput={set("since")} />
            </div>
            <div>
              <label for="audit-until">{t("audit.until")}</label>
              <input id="audit-until" name="until" type="datetime-local" step="1" value={form.until} onInput={set("until")} />
            </div>
          </div>
          {state.problem && (
            <div class="alert" role="alert">
              <p>{state.problem}</p>
            </div>
          )}
          <div class="actions start">
            <button type="submit" disabled={state.loading}>
              {t("audit.apply")}
            </button>
            <button type="button" class="secondary outline" onClick={clear} disabled={state.loading}>
              {t("audit.clear")}
            </button>
          </div>
        </form>
      </details>

      <ErrorAlert error={state.error} />
      {state.loading && !records.length && <Loading />}
      {query && state.loaded && !state.error && !records.length && <p>{cursor ? t("audit.emptyPage") : t("audit.none")}</p>}
      {records.length > 0 && <AuditRecords records={records} />}
      {query && state.loaded && (cursor ? (
        <button type="button" class="secondary" onClick={() => load(query, cursor)} disabled={state.loading} aria-busy={state.loading ? "true" : undefined}>
          {t("audit.older")}
        </button>
      ) : (
        records.length > 0 && <p class="muted small">{t("audit.end")}</p>
      ))}
    </>
  );
}
