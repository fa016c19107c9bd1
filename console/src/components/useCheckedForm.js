// The state and submit plumbing the console's checked forms share (AppForm, OrgForm, HookForm,
// ConnectionForm): the values as typed, which fields were left, whether a submit was tried, and
// the form's own check of its values.
import { useId, useMemo, useRef, useState } from "preact/hooks";
import { useI18n } from "../i18n.jsx";

/**
 * A form checked as it is typed: a field's error is shown once the field is left, and every
 * error once a submit is tried.
 *
 * `initial`: the first values (or a function that returns them, as `useState` takes it).
 * `check(values, t)` returns `{ errors, body }` (and whatever else the form reads): `errors` by
 * field name, empty when the values are good, and `body` what `onSubmit(body)` is then called
 * with. `check` should be stable (module level, or `useCallback`): the result is worked out
 * again when `check`, the values or the language change.
 *
 * Returns `{ values, setValues, checked, errors, shown, set, touch, f, form, submit, anyErrors }`:
 * - `checked`: what `check` returned for `values`; `errors`: its `errors`;
 * - `shown(name)`: whether the error of the field `name` is shown (left, or a submit tried);
 * - `set(name)`: an input handler that keeps the field's value; `touch(name)`: a blur handler
 *   that marks it left;
 * - `f(name)`: an id for the field, unique on the page (from `useId`);
 * - `form`: the ref for the `<form>`; `submit`: its submit handler, which calls `onSubmit(body)`
 *   or, when there are errors, focuses the first field (by `name`) in error instead;
 * - `anyErrors`: a submit was tried and there are errors.
 */
export function useCheckedForm(initial, check, onSubmit) {
  const { t } = useI18n();
  const uid = useId();
  const [values, setValues] = useState(initial);
  const [touched, setTouched] = useState({});
  const [submitted, setSubmitted] = useState(false);
  const form = useRef(null);
  const checked = useMemo(() => check(values, t), [values, check, t]);
  const { errors } = checked;
  const shown = (name) => submitted || touched[name];
  const set = (name) => (e) => setValues((v) => ({ ...v, [name]: e.currentTarget.value }));
  const touch = (name) => () => setTouched((s) => ({ ...s, [name]: true }));
  const f = (name) => `${uid}-${name}`;

  const submit = (e) => {
    e.preventDefault();
    setSubmitted(true);
    const names = Object.keys(errors);
    if (names.length) {
      const first = form.current && form.current.querySelector(`[name="${names[0]}"]`);
      if (first) first.focus();
      return;
    }
    onSubmit(checked.body);
  };

  const anyErrors = submitted && Object.keys(errors).length > 0;
  return { values, setValues, checked, errors, shown, set, touch, f, form, submit, anyErrors };
}
