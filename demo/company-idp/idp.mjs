// The demo company's identity provider: `oidc-provider` (a certified OpenID provider) on
// loopback with one relying party (the bridge) and a few employees. It stands in for Entra ID,
// Okta or Google Workspace in `make dev` and in the tests; only the login and logout pages are
// ours, the protocol is the package's.
//
// Usage: node idp.mjs --port N --client-id ID --client-secret S --redirect-uri URL
//                     [--post-logout-redirect-uri URL] [--exit-with-stdin]
// Prints `READY issuer=<url>` once it listens. `GET /__backchannel` answers how many discovery,
// JWKS and token requests it has served (tests count the bridge's round trips with it);
// `GET /__backchannel/log` hands over (and forgets) when each was served, `{path, start, end}` in
// wall-clock milliseconds (the cold-path benchmark puts them beside the AWS calls it sees).
// `IDP_BACKCHANNEL_DELAY_MS` (default 0) answers each of those requests that much later: the
// benchmark's model of a company's provider across the internet.

import { createServer } from "node:http";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import Provider from "oidc-provider";

const { values: args } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    "client-id": { type: "string" },
    "client-secret": { type: "string" },
    "redirect-uri": { type: "string", multiple: true },
    "post-logout-redirect-uri": { type: "string", multiple: true, default: [] },
    "exit-with-stdin": { type: "boolean", default: false },
  },
});

// The company's people. Passwords are for the demo only.
export const EMPLOYEES = {
  "emp-0001": { password: "Corp-Passw0rd!", email: "taro@corp.example", name: "山田 太郎", given_name: "太郎", family_name: "山田" },
  "emp-0002": { password: "Corp-Passw0rd!", email: "jiro@corp.example", name: "Jiro Sato", given_name: "Jiro", family_name: "Sato" },
  // Signs in fine at the company, but their email is not in the organisation's domains.
  "emp-0003": { password: "Corp-Passw0rd!", email: "ken@elsewhere.example", name: "Ken Outsider" },
};

const byLogin = (login) =>
  Object.entries(EMPLOYEES).find(([, e]) => e.email.toLowerCase() === String(login || "").trim().toLowerCase());

const escape = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font-family:sans-serif;background:#eef2f6;margin:0}main{max-width:22rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}button{margin-top:1rem;padding:.6rem 1rem;width:100%}
.error{color:#b00020}</style></head>
<body><main><p>Example Corp — company sign-in</p>${body}</main></body></html>`;

function loginPage(uid, hint, error) {
  return page("Example Corp sign-in", `<h1>Sign in to Example Corp</h1>
${error ? `<p class="error" role="alert">${escape(error)}</p>` : ""}
<form method="post" action="/interaction/${escape(uid)}/login">
<label for="login">Work email</label><input id="login" name="login" value="${escape(hint)}" autocomplete="username">
<label for="password">Company password</label><input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in to Example Corp</button></form>`);
}

const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: "jwk" }), kid: `company-${randomBytes(4).toString("hex")}`, use: "sig", alg: "RS256" };

const port = Number(args.port);
const server = createServer();
await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: args["client-id"],
      client_secret: args["client-secret"],
      redirect_uris: args["redirect-uri"],
      post_logout_redirect_uris: args["post-logout-redirect-uri"],
      response_types: ["code"],
      grant_types: ["authorization_code"],
      token_endpoint_auth_method: "client_secret_basic",
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString("hex")] },
  claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "given_name", "family_name", "preferred_username"] },
  // Claims go into the ID token itself, as Entra ID and Okta do for these scopes.
  conformIdTokenClaims: false,
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: {
      enabled: true,
      logoutSource: async (ctx, form) => {
        ctx.body = page("Sign out", `<h1>Sign out of Example Corp?</h1>${form}
<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page("Signed out", "<h1>You have signed out of Example Corp.</h1>");
      },
    },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  findAccount: async (ctx, sub) => {
    const e = EMPLOYEES[sub];
    if (!e) return undefined;
    return {
      accountId: sub,
      claims: async () => ({ sub, email: e.email, email_verified: true, name: e.name, given_name: e.given_name, family_name: e.family_name,
        preferred_username: e.email }),
    };
  },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AuthorizationCode: 60, IdToken: 300, AccessToken: 300 },
});
provider.proxy = false;

async function readForm(req) {
  let body = "";
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 8192) break;
  }
  return new URLSearchParams(body);
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error("interaction mismatch");
  const { prompt, params, session } = details;
  if (prompt.name === "login") {
    if (req.method === "POST" && action === "login") {
      const form = await readForm(req);
      const found = byLogin(form.get("login"));
      if (!found || found[1].password !== form.get("password")) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
        return res.end(loginPage(uid, form.get("login"), "Incorrect email or password."));
      }
      return provider.interactionFinished(req, res, { login: { accountId: found[0] } }, { mergeWithLastSubmission: false });
    }
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    return res.end(loginPage(uid, params.login_hint));
  }
  // Consent: the company's own app, granted without asking, as a company IdP does.
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope));
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const handle = provider.callback();
const backchannel = { discovery: 0, jwks: 0, token: 0 };
const counted = { "/.well-known/openid-configuration": "discovery", "/jwks": "jwks", "/token": "token" };
const served = [];
const delay = Number(process.env.IDP_BACKCHANNEL_DELAY_MS || 0);
const wallClock = () => performance.timeOrigin + performance.now();
server.on("request", async (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  if (path === "/__backchannel" || path === "/__backchannel/log") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(path === "/__backchannel" ? backchannel : served.splice(0)));
  }
  if (counted[path]) {
    backchannel[counted[path]] += 1;
    const start = wallClock();
    // Kept while a benchmark reads them (it empties the log); a long `make dev` keeps the last 1,000.
    res.on("close", () => served.push({ path, start, end: wallClock() }) > 1000 && served.shift());
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  }
  const match = /^\/interaction\/([\w-]+)(?:\/(login))?$/.exec(path);
  if (!match) return handle(req, res);
  try {
    await interaction(req, res, match[1], match[2]);
  } catch (err) {
    res.writeHead(400, { "content-type": "text/html; charset=utf-8" });
    res.end(page("Error", `<h1>Sign-in failed</h1><p>${escape(err.message)}</p>`));
  }
});

process.on("SIGTERM", () => process.exit(0));
// Tests keep our stdin open; when they exit, so do we.
if (args["exit-with-stdin"]) process.stdin.on("end", () => process.exit(0)).resume();
console.log(`READY issuer=${issuer}`);
