import { Link } from "wouter-preact";
import { useI18n } from "../i18n.jsx";

export function NotFound() {
  const { t } = useI18n();
  return (
    <>
      <h1>{t("errors.not_found")}</h1>
      <p>
        <Link href="/">{t("nav.overview")}</Link>
      </p>
    </>
  );
}
