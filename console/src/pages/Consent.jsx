// Consent documents: the terms and policies people accept, and the optional consents they may
// give (marketing). Everyone reads each document's current version and its history; admins
// export everyone's decisions about a version (JSON lines, as `bridge-admin consent export`
// writes them; each page the API reads is audited) and publish the next version (a new document
// starts at 1). Published versions are
// never changed: people's records point at them. Checked as the API checks it
// (shared/src/consent/document.rs).
import { useCallback, useState } from "preact/hooks";
import { api, seg } from "../api.js";
import { useI18n } from "../i18n.jsx";
import { may, useMe } from "../session.js";
import { useResource } from "../resource.js";
import { Field, FixAlert, FormActions } from "../components/AppForm.jsx";
import { ErrorAlert, Loading, Notice, Time } from "../components/Messages.jsx";
import { useCheckedForm } from "../components/useCheckedForm.js";
import { secureUrl } from "../components/urls.js";

const NAME = /^[a-z][a-z0-9-]{0,31}$/;
const LANGUAGES = ["ja", "en"];
const MAX_TITLE = 120;
const NEW = "new";
/** Records per call of an export (the API's most). */
const EXPORT_PAGE = 1000;

/** Everyone's decisions about `doc` (one version), every page, as JSON lines; `progress(n)`
 * after each page. */
async function records(doc, progress) {
  const lines = [];
  let cursor;
  do {
    const { data } = await api(`/consent/${seg(doc.id)}/versions/${doc.version}/records`, { query: { cursor, limit: EXPORT_PAGE } });
    for (const record of data.records) lines.push(`${JSON.stringify(record)}\n`);
    progress(lines.length);
    // A page that names itself as the next would never end: a failure, never a file that looks whole.
    if (data.next_cursor && data.next_cursor === cursor) throw new Error("the export did not move on");
    cursor = data.next_cursor;
  } while (cursor);
  return lines;
}

/** Has the browser save `lines` as the file `name`. */
function download(lines, name) {
  const url = URL.createObjectURL(new Blob(lines, { type: "application/x-ndjson" }));
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Each document's versions, newest first, the documents in name order. */
function byDocument(all) {
  const grouped = new Map();
  for (const doc of [...all].sort((a, b) => a.id.localeCompare(b.id) || b.version - a.version)) {
    if (!grouped.has(doc.id)) grouped.set(doc.id, []);
    grouped.get(doc.id).push(doc);
  }
  return [...grouped.values()];
}

/** `taken`: the names of the documents there are (a new document's must be another). */
function check(values, t, taken) {
  const errors = {};
  const id = values.id.trim();
  if (!NAME.test(id)) errors.id = t("consent.invalid.id");
  else if (taken.includes(id)) errors.id = t("consent.invalid.taken", { id });
  const title = {};
  const url = {};
  for (const lang of LANGUAGES) {
    const text = values[`title_${lang}`].trim();
    if (!text || [...text].length > MAX_TITLE) errors[`title_${lang}`] = t("consent.invalid.title", { max: MAX_TITLE });
    const link = values[`url_${lang}`].trim();
    if (!secureUrl(link)) errors[`url_${lang}`] = t("consent.invalid.url");
    title[lang] = text;
    url[lang] = link;
  }
  if (Object.keys(errors).length) return { errors };
  return { errors, body: { id, body: { required: values.required, title, url } } };
}

const initial = (doc) => ({
  id: doc ? doc.id : "",
  required: doc ? doc.required : false,
  title_ja: doc ? doc.title.ja : "",
  title_en: doc ? doc.title.en : "",
  url_ja: doc ? doc.url.ja : "",
  url_en: doc ? doc.url.en : "",
});

/** The next version of `current` (a new document, named other than `taken`, when `current` is
 * null), prefilled with it. */
function PublishForm({ current, taken, busy, error, onSubmit, onCancel }) {
  const { t } = useI18n();
  const checkTaken = useCallback((values, t) => check(values, t, current ? [] : taken), [current, taken.join()]);
  const { values, setValues, errors, shown, set, touch, f, form, submit, anyErrors } = useCheckedForm(() => initial(current), checkTaken, onSubmit);
  const field = (name, label, type = "text") => (
    <Field id={f(name)} label={label} error={errors[name]} shown={shown(name)}>
      {(aria) => <input {...aria} name={name} type={type} value={values[name]} onInput={set(name)} onBlur={touch(name)} />}
    </Field>
  );
  return (
    <form ref={form} onSubmit={submit} novalidate aria-busy={busy ? "true" : undefined}>
      <FixAlert shown={anyErrors} messageKey="consent.fix" />
      <ErrorAlert error={error} />
      {current ? (
        <p>{t("consent.nextOf", { id: current.id, version: current.version + 1 })}</p>
      ) : (
        <Field id={f("id")} label={t("consent.id")} help={t("consent.idHelp")} error={errors.id} shown={shown("id")}>
          {(aria) => <input {...aria} name="id" value={values.id} onInput={set("id")} onBlur={touch("id")} autocomplete="off" spellcheck={false} />}
        </Field>
      )}
      <label>
        <input
          type="checkbox"
          role="switch"
          name="required"
          checked={values.required}
          onChange={(e) => setValues((v) => ({ ...v, required: e.currentTarget.checked }))}
          aria-describedby={f("required-help")}
        />
        {t("consent.requiredLabel")}
      </label>
      <small class="muted" id={f("required-help")}>
        {t("consent.requiredHelp")}
      </small>
      <div class="grid">
        {field("title_ja", t("consent.titleIn", { lang: "日本語" }))}
        {field("title_en", t("consent.titleIn", { lang: "English" }))}
      </div>
      <div class="grid">
        {field("url_ja", t("consent.urlIn", { lang: "日本語" }), "url")}
        {field("url_en", t("consent.urlIn", { lang: "English" }), "url")}
      </div>
      <FormActions busy={busy} onCancel={onCancel} submitKey="consent.publish" />
    </form>
  );
}

export function Consent() {
  const { t, lang } = useI18n();
  const me = useMe();
  const documents = useResource("/consent");
  const [notice, setNotice] = useState(null);
  // The document whose next version is being written: its current version, `NEW`, or null.
  const [writing, setWriting] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const canChange = may(me, "change");
  const canExport = may(me, "exportPersonalData");
  // The version being exported (`{id}#{version}`), or null; the export's failure.
  const [exporting, setExporting] = useState(null);
  const [exportError, setExportError] = useState(null);
  const groups = byDocument(documents.data ? documents.data.documents : []);
  const text = (localized) => localized[lang] || localized.en;

  const start = (doc) => {
    setError(null);
    setNotice(null);
    setWriting(doc || NEW);
  };
  const publish = async ({ id, body }) => {
    const current = writing === NEW ? null : writing;
    setBusy(true);
    setError(null);
    try {
      const { data } = await api(`/consent/${seg(current ? current.id : id)}`, { method: "POST", body, ifMatch: `"${current ? current.version : 0}"` });
      setWriting(null);
      setNotice({ key: data.required ? "consent.publishedRequired" : "consent.published", values: { id: data.id, version: data.version } });
      documents.reload();
    } catch (err) {
      setError(err);
      // Another version was published meanwhile: the list shows it; write again from it.
      if (err.code === "precondition_failed") {
        setWriting(null);
        documents.reload();
      }
    } finally {
      setBusy(false);
    }
  };

  const exportRecords = async (doc) => {
    setExporting(`${doc.id}#${doc.version}`);
    setExportError(null);
    const values = { id: doc.id, version: doc.version };
    try {
      const lines = await records(doc, (n) => setNotice({ key: "consent.exporting", values: { ...values, n } }));
      download(lines, `consent-${doc.id}-v${doc.version}.jsonl`);
      setNotice({ key: lines.length === 1 ? "consent.exportedOne" : "consent.exported", values: { ...values, n: lines.length } });
    } catch (err) {
      setNotice(null);
      setExportError(err);
    } finally {
      setExporting(null);
    }
  };
  /** The button that exports `doc`'s records (admins). */
  const exportButton = (doc) =>
    canExport && (
      <button
        type="button"
        class="outline secondary small"
        onClick={() => exportRecords(doc)}
        disabled={Boolean(exporting)}
        aria-busy={exporting === `${doc.id}#${doc.version}` ? "true" : undefined}
        aria-label={t("consent.exportOf", { id: doc.id, version: doc.version })}
      >
        {t("consent.export")}
      </button>
    );

  return (
    <>
      <h1>{t("consent.heading")}</h1>
      <p class="muted">{t("consent.intro")}</p>
      <Notice notice={notice} />
      {!writing && <ErrorAlert error={error} />}
      <ErrorAlert error={exportError} />
      {documents.loading && !documents.data && <Loading />}
      <ErrorAlert error={documents.error} />
      {documents.data &&
        (groups.length ? (
          <div class="overflow-auto">
            <table class="striped consent">
              <thead>
                <tr>
                  <th scope="col">{t("consent.document")}</th>
                  <th scope="col">{t("consent.version")}</th>
                  <th scope="col">{t("consent.kind")}</th>
                  <th scope="col">{t("consent.title")}</th>
                  <th scope="col">{t("consent.publishedAt")}</th>
                  {(canChange || canExport) && <th scope="col">{t("consent.actions")}</th>}
                </tr>
              </thead>
              <tbody>
                {groups.map(([latest, ...older]) => (
                  <tr key={latest.id}>
                    <th scope="row">
                      <code>{latest.id}</code>
                    </th>
                    <td>{latest.version}</td>
                    <td>{latest.required ? t("consent.required") : t("consent.optional")}</td>
                    <td>
                      <a href={latest.url[lang] || latest.url.en} target="_blank" rel="noopener noreferrer">
                        {text(latest.title)}
                      </a>
                      {older.length > 0 && (
                        <details>
                          <summary>{older.length === 1 ? t("consent.historyOne") : t("consent.history", { n: older.length })}</summary>
                          <ul>
                            {older.map((doc) => (
                              <li key={doc.version}>
                                {t("consent.versionN", { version: doc.version })}: <a href={doc.url[lang] || doc.url.en} target="_blank" rel="noopener noreferrer">{text(doc.title)}</a> ·{" "}
                                {doc.required ? t("consent.required") : t("consent.optional")} · <Time at={doc.published} /> {exportButton(doc)}
                              </li>
                            ))}
                          </ul>
                        </details>
                      )}
                    </td>
                    <td>
                      <Time at={latest.published} />
                    </td>
                    {(canChange || canExport) && (
                      <td>
                        <div class="toolbar">
                          {canChange && (
                            <button type="button" class="secondary small" onClick={() => start(latest)} disabled={Boolean(writing)}>
                              {t("consent.newVersion")}
                            </button>
                          )}
                          {exportButton(latest)}
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <p>{t("consent.empty")}</p>
        ))}
      {canChange && documents.data && !writing && (
        <button type="button" onClick={() => start(null)}>
          {t("consent.newDocument")}
        </button>
      )}
      {canChange && writing && (
        <section aria-labelledby="publish-heading">
          <h2 id="publish-heading">{writing === NEW ? t("consent.newDocument") : t("consent.newVersionOf", { id: writing.id })}</h2>
          <p class="muted small">{t("consent.publishIntro")}</p>
          <PublishForm
            key={writing === NEW ? NEW : `${writing.id}#${writing.version}`}
            current={writing === NEW ? null : writing}
            taken={groups.map(([latest]) => latest.id)}
            busy={busy}
            error={error}
            onSubmit={publish}
            onCancel={() => {
              setWriting(null);
              setError(null);
            }}
          />
        </section>
      )}
    </>
  );
}
