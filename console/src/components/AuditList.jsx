// Audit records: who (email), through what, from where, when, what and on what, and the target
// before and after as a field-by-field difference.
import { useI18n } from "../i18n.jsx";
import { Time } from "./Messages.jsx";

const isObject = (v) => v !== null && typeof v === "object";

/** `value` flattened to `path -> JSON text`: objects by key, arrays of objects by index (a key
 * set: `keys.1.retire_after`), arrays of plain values whole (`["a","b"]`). */
function flatten(value, prefix = "", out = new Map()) {
  const nested = isObject(value) && (!Array.isArray(value) || value.some(isObject));
  if (nested) {
    const keys = Object.keys(value);
    if (!keys.length && prefix) out.set(prefix, Array.isArray(value) ? "[]" : "{}");
    for (const k of keys) flatten(value[k], prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, JSON.stringify(value));
  } else if (value !== undefined && value !== null) {
    out.set("", JSON.stringify(value));
  }
  return out;
}

/** The fields that differ between `before` and `after`. */
export function diff(before, after) {
  const a = flatten(before);
  const b = flatten(after);
  const paths = [...new Set([...a.keys(), ...b.keys()])].sort();
  return paths.filter((p) => a.get(p) !== b.get(p)).map((p) => ({ path: p, before: a.get(p), after: b.get(p) }));
}

function Diff({ record }) {
  const { t } = useI18n();
  if (record.before === undefined && record.after === undefined) return <p class="muted small">{t("audit.noDetails")}</p>;
  const rows = diff(record.before, record.after);
  if (!rows.length) return <p class="muted small">{t("audit.unchanged")}</p>;
  return (
    <div class="overflow-auto">
      <table class="diff">
        <thead>
          <tr>
            <th scope="col">{t("audit.field")}</th>
            <th scope="col">{t("audit.before")}</th>
            <th scope="col">{t("audit.after")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.path}>
              <th scope="row">
                <code>{r.path || "—"}</code>
              </th>
              <td>{r.before !== undefined ? <del>{r.before}</del> : <span class="muted">—</span>}</td>
              <td>{r.after !== undefined ? <ins>{r.after}</ins> : <span class="muted">—</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function TypeName({ type }) {
  const { t } = useI18n();
  const name = t(`audit.types.${type}`);
  return (
    <span class="type">
      {name !== `audit.types.${type}` ? `${name} ` : ""}
      <code>{type}</code>
    </span>
  );
}

function Actor({ actor }) {
  const { t } = useI18n();
  return (
    <>
      <span class="actor">{actor.email || actor.id}</span>
      <span class="muted">
        {" · "}
        {t(`audit.vias.${actor.via}`)}
        {actor.ip ? ` · ${actor.ip}` : ""}
      </span>
    </>
  );
}

/** Full records, each with its difference. */
export function AuditRecords({ records }) {
  const { t } = useI18n();
  return (
    <ol class="records">
      {records.map((r) => (
        <li key={r.id} class="record">
          <article aria-label={`${t(`audit.types.${r.type}`)} ${r.target}`}>
            <dl class="meta">
              <div>
                <dt>{t("audit.at")}</dt>
                <dd>
                  <Time at={r.at} />
                </dd>
              </div>
              <div>
                <dt>{t("audit.type")}</dt>
                <dd>
                  <TypeName type={r.type} />
                </dd>
              </div>
              <div>
                <dt>{t("audit.target")}</dt>
                <dd>
                  <code class="target">{r.target}</code>
                </dd>
              </div>
              <div>
                <dt>{t("audit.actorCol")}</dt>
                <dd>
                  <span class="actor">{r.actor.email || r.actor.id}</span>
                </dd>
              </div>
              <div>
                <dt>{t("audit.via")}</dt>
                <dd>{t(`audit.vias.${r.actor.via}`)}</dd>
              </div>
              <div>
                <dt>{t("audit.ip")}</dt>
                <dd>{r.actor.ip || <span class="muted">—</span>}</dd>
              </div>
            </dl>
            <Diff record={r} />
          </article>
        </li>
      ))}
    </ol>
  );
}

/** A compact table: the latest records on the overview. */
export function AuditTable({ records, caption }) {
  const { t } = useI18n();
  return (
    <div class="overflow-auto">
      <table class="striped audit-table">
        {caption && <caption>{caption}</caption>}
        <thead>
          <tr>
            <th scope="col">{t("audit.at")}</th>
            <th scope="col">{t("audit.type")}</th>
            <th scope="col">{t("audit.target")}</th>
            <th scope="col">{t("audit.actorCol")}</th>
          </tr>
        </thead>
        <tbody>
          {records.map((r) => (
            <tr key={r.id}>
              <td>
                <Time at={r.at} />
              </td>
              <td>
                <TypeName type={r.type} />
              </td>
              <td>
                <code class="target">{r.target}</code>
              </td>
              <td class="who">
                <Actor actor={r.actor} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
