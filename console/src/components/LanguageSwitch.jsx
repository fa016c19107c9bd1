import { LANGUAGES, useI18n } from "../i18n.jsx";

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <div class="languages" role="group" aria-label={t("languages")}>
      {LANGUAGES.map(([code, name]) => (
        <button type="button" key={code} lang={code} class="outline secondary" aria-pressed={String(lang === code)} onClick={() => setLang(code)}>
          {name}
        </button>
      ))}
    </div>
  );
}
