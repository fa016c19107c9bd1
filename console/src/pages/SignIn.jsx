// Signed out: the bridge signs the person in (the form, then an SMS code) and sends them back
// with a token in the fragment.
import { useI18n } from "../i18n.jsx";
import { expectToken, signIn, signOutOfBridgeUrl } from "../auth.js";
import { LanguageSwitch } from "../components/LanguageSwitch.jsx";

export function SignIn({ signedOut }) {
  const { t } = useI18n();
  return (
    <main class="container narrow signin">
      <LanguageSwitch />
      <article>
        <header>
          <p class="muted brand-line">{t("brand")}</p>
          <h1>{t("signIn.heading")}</h1>
        </header>
        <p role="status" class="notice" hidden={!signedOut}>
          {signedOut ? t("signIn.signedOut") : ""}
        </p>
        <p>{t("signIn.intro")}</p>
        <button type="button" class="wide" onClick={() => signIn()}>
          {t("signIn.button")}
        </button>
        {signedOut && (
          <p class="small">
            <a href={signOutOfBridgeUrl()} onClick={() => expectToken()}>
              {t("signIn.elsewhere")}
            </a>
            <br />
            <span class="muted">{t("signIn.elsewhereHelp")}</span>
          </p>
        )}
      </article>
    </main>
  );
}
