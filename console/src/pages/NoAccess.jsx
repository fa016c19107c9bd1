// The API let the person sign in but not into the console (403 no_role or
// second_factor_required): say so, and nothing else.
import { useI18n } from "../i18n.jsx";
import { beforeSignOut, signOutUrl } from "../auth.js";
import { LanguageSwitch } from "../components/LanguageSwitch.jsx";

export function NoAccess({ code }) {
  const { t } = useI18n();
  return (
    <main class="container narrow signin">
      <LanguageSwitch />
      <article>
        <header>
          <p class="muted brand-line">{t("brand")}</p>
          <h1>{t("noAccess.heading")}</h1>
        </header>
        <p role="alert">{t(`noAccess.${code === "second_factor_required" ? code : "no_role"}`)}</p>
        <p class="small">
          <a href={signOutUrl()} onClick={beforeSignOut}>
            {t("signIn.elsewhere")}
          </a>
        </p>
      </article>
    </main>
  );
}
