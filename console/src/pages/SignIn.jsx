// Signed out: the bridge signs the person in (the form, then an SMS code) and sends them back
// with a token in the fragment.
import { useI18n } from "../i18n.jsx";
import { signIn } from "../auth.js";
import { LanguageSwitch } from "../components/LanguageSwitch.jsx";

export function SignIn() {
  const { t } = useI18n();
  return (
    <main class="container narrow signin">
      <LanguageSwitch />
      <article>
        <header>
          <p class="muted brand-line">{t("brand")}</p>
          <h1>{t("signIn.heading")}</h1>
        </header>
        <p>{t("signIn.intro")}</p>
        <button type="button" class="wide" onClick={() => signIn()}>
          {t("signIn.button")}
        </button>
      </article>
    </main>
  );
}
