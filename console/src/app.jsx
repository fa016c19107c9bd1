// The console's shell: sign-in state, the operator (GET /me), the header and the routes (hash
// routes, as the console is static files: #/apps, #/people/x).
import { useEffect, useRef, useState } from "preact/hooks";
import { Link, Route, Router, Switch, useLocation } from "wouter-preact";
import { useHashLocation } from "wouter-preact/use-hash-location";
import { api, onShutOut, SHUT_OUT } from "./api.js";
import { beforeSignOut, endTokens, signOutUrl, token } from "./auth.js";
import { I18nProvider, useI18n } from "./i18n.jsx";
import { Me } from "./session.js";
import { ErrorAlert, Loading } from "./components/Messages.jsx";
import { LanguageSwitch } from "./components/LanguageSwitch.jsx";
import { SignIn } from "./pages/SignIn.jsx";
import { NoAccess } from "./pages/NoAccess.jsx";
import { Overview } from "./pages/Overview.jsx";
import { Apps } from "./pages/Apps.jsx";
import { NewApp } from "./pages/NewApp.jsx";
import { AppPage } from "./pages/App.jsx";
import { Keys } from "./pages/Keys.jsx";
import { Consent } from "./pages/Consent.jsx";
import { People } from "./pages/People.jsx";
import { Person } from "./pages/Person.jsx";
import { Orgs } from "./pages/Orgs.jsx";
import { OrgPage } from "./pages/Org.jsx";
import { Hooks } from "./pages/Hooks.jsx";
import { HookPage } from "./pages/Hook.jsx";
import { Workflows } from "./pages/Workflows.jsx";
import { WorkflowPage } from "./pages/Workflow.jsx";
import { Audit } from "./pages/Audit.jsx";
import { NotFound } from "./pages/NotFound.jsx";

export function App() {
  return (
    <I18nProvider>
      <Router hook={useHashLocation}>
        <Shell />
      </Router>
    </I18nProvider>
  );
}

function Shell() {
  const { t, lang } = useI18n();
  const [phase, setPhase] = useState(() => (token() ? { name: "loading" } : { name: "signin" }));

  useEffect(() => {
    document.title = t("title");
  }, [lang]);

  useEffect(() => onShutOut((code) => setPhase({ name: "noaccess", code })), []);

  useEffect(() => {
    if (phase.name !== "loading") return;
    api("/me")
      .then(({ data }) => setPhase({ name: "ready", me: data }))
      .catch((error) => {
        if (SHUT_OUT.includes(error.code)) setPhase({ name: "noaccess", code: error.code });
        else if (error.code === "unauthorized") setPhase({ name: "leaving" });
        else setPhase({ name: "error", error });
      });
  }, [phase.name]);

  // Sign out revokes the person's console tokens (a copy left in the browser's history opens
  // nothing) and the bridge session: on a shared computer, the next person's "Sign in" asks for a
  // password instead of entering as this operator. The form then says the person is signed out,
  // and signing in there comes back to this tab's console.
  const leave = async () => {
    await endTokens();
    beforeSignOut();
    location.assign(signOutUrl());
  };

  switch (phase.name) {
    case "signin":
      return <SignIn />;
    case "noaccess":
      return <NoAccess code={phase.code} />;
    case "ready":
      return (
        <Me.Provider value={phase.me}>
          <Console me={phase.me} onSignOut={leave} />
        </Me.Provider>
      );
    case "error":
      return (
        <main class="container narrow">
          <LanguageSwitch />
          <h1>{t("title")}</h1>
          <ErrorAlert error={phase.error} />
          <button type="button" onClick={() => setPhase({ name: "loading" })}>
            {t("retry")}
          </button>
        </main>
      );
    case "leaving":
      return (
        <main class="container narrow">
          <p role="status">{t("signIn.again")}</p>
        </main>
      );
    default:
      return (
        <main class="container narrow">
          <Loading />
        </main>
      );
  }
}

const NAV = [
  ["/", "nav.overview"],
  ["/apps", "nav.apps"],
  ["/keys", "nav.keys"],
  ["/people", "nav.people"],
  ["/consent", "nav.consent"],
  ["/orgs", "nav.orgs"],
  ["/hooks", "nav.hooks"],
  ["/workflows", "nav.workflows"],
  ["/audit", "nav.audit"],
];

function Console({ me, onSignOut }) {
  const { t } = useI18n();
  const [location] = useLocation();
  const main = useRef(null);
  const first = useRef(true);

  // A new page: focus its heading, so a screen reader starts there (not on the first load).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const heading = main.current && main.current.querySelector("h1");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus({ preventScroll: false });
    }
  }, [location]);

  const current = (href) => (href === "/" ? location === "/" : location === href || location.startsWith(`${href}/`));
  return (
    <>
      <header class="topbar">
        <div class="container">
          <div class="bar">
            <span class="brand">
              <strong>{t("brand")}</strong> <span class="muted">{t("title")}</span>
            </span>
            <div class="account">
              <span class="who">
                {me.email || me.username} · <span class="role">{t(`roles.${me.role}`)}</span>
              </span>
              <LanguageSwitch />
              <button type="button" class="outline secondary small" onClick={onSignOut}>
                {t("account.signOut")}
              </button>
            </div>
          </div>
          <nav aria-label={t("nav.label")} class="mainnav">
            <ul>
              {NAV.map(([href, key]) => (
                <li key={href}>
                  <Link href={href} aria-current={current(href) ? "page" : undefined}>
                    {t(key)}
                  </Link>
                </li>
              ))}
            </ul>
          </nav>
        </div>
      </header>
      <main class="container" ref={main}>
        <Switch>
          <Route path="/" component={Overview} />
          <Route path="/apps" component={Apps} />
          <Route path="/apps/new" component={NewApp} />
          <Route path="/apps/:id" component={AppPage} />
          <Route path="/keys" component={Keys} />
          <Route path="/people" component={People} />
          <Route path="/people/:username" component={Person} />
          <Route path="/consent" component={Consent} />
          <Route path="/orgs" component={Orgs} />
          <Route path="/orgs/:id" component={OrgPage} />
          <Route path="/hooks" component={Hooks} />
          <Route path="/hooks/:name" component={HookPage} />
          <Route path="/workflows" component={Workflows} />
          <Route path="/workflows/:id" component={WorkflowPage} />
          <Route path="/audit" component={Audit} />
          <Route path="/audit/:by/:value" component={Audit} />
          <Route component={NotFound} />
        </Switch>
      </main>
    </>
  );
}
