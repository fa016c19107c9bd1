// A demo app that signs people in through the bridge as its OpenID provider, with openid-client
// (a certified OpenID Connect relying party): discovery, the authorization code flow with PKCE,
// state and nonce, the ID token checked against the bridge's published keys (issuer, audience,
// signature, expiry, nonce), RFC 9207's `iss`, then UserInfo with the access token; a refresh
// token (`offline_access`) used for new tokens, each refresh giving the next one; and the
// bridge's back-channel logout (OpenID Connect Back-Channel Logout 1.0): a logout token, checked
// with jose, ends the sessions here of the bridge session it names.
//
//   node demo/oidc-client/app.mjs --port P --issuer URL --client-id ID   (DEMO_OIDC_PRIVATE_JWK in env)
//
// It proves itself to the bridge with `private_key_jwt` (RFC 7523): assertions signed with its
// own ES256 key, whose public half the local stack registered; it shares no secret.
//
// GET /            the signed-in person's ID token claims and UserInfo, or on to the bridge
// GET /callback    where the bridge sends the code
// GET /refresh     new tokens with the refresh token (the account's claims as they are now)
// GET /logout      signs out here, then at the bridge (its end-session endpoint)
// GET /signed-out  where the bridge sends the person back
// POST /backchannel-logout  the bridge's logout token (form field `logout_token`)
// Prints `READY <origin>` once listening. Sessions live in memory.

import { createServer } from "node:http";
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import * as client from "openid-client";
import { createRemoteJWKSet, importJWK, jwtVerify } from "jose";

const { values: args } = parseArgs({ options: { port: { type: "string", default: "0" }, issuer: { type: "string" }, "client-id": { type: "string" } } });
const privateJwk = process.env.DEMO_OIDC_PRIVATE_JWK && JSON.parse(process.env.DEMO_OIDC_PRIVATE_JWK);
if (!args.issuer || !args["client-id"] || !privateJwk) {
  console.error("usage: app.mjs --port P --issuer URL --client-id ID (DEMO_OIDC_PRIVATE_JWK in env: the client's private key, a JWK)");
  process.exit(2);
}
const clientKey = { key: await importJWK(privateJwk, "ES256"), kid: privateJwk.kid };

let config; // discovered on first use: the bridge may start after this app
const discover = async () =>
  (config ||= await client.discovery(new URL(args.issuer), args["client-id"], undefined, client.PrivateKeyJwt(clientKey), {
    execute: [client.allowInsecureRequests], // the local bridge is plain HTTP on loopback
  }));

const pending = new Map(); // browser id -> { state, nonce, verifier }
const sessions = new Map(); // browser id -> { claims, userinfo, idToken, refreshToken, refreshes }

const LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout";
const seenLogouts = new Set(); // logout tokens' jti: each is taken once
let bridgeKeys;

// A logout token checked as §2.6 says (signature by the bridge's published keys, issuer,
// audience, `typ`, age, the event, `sid` or `sub`, no nonce, not seen before); the sessions
// here it names end. How many.
async function backchannelLogout(token) {
  const metadata = (await discover()).serverMetadata();
  bridgeKeys ||= createRemoteJWKSet(new URL(metadata.jwks_uri));
  const { payload } = await jwtVerify(token, bridgeKeys, {
    issuer: metadata.issuer, audience: args["client-id"], typ: "logout+jwt", maxTokenAge: "2 minutes", requiredClaims: ["iat", "jti", "events"],
  });
  if (!payload.events || typeof payload.events[LOGOUT_EVENT] !== "object" || payload.nonce !== undefined || !(payload.sid || payload.sub)) {
    throw new Error("not a logout token");
  }
  if (seenLogouts.has(payload.jti)) throw new Error("a logout token seen before");
  seenLogouts.add(payload.jti);
  let ended = 0;
  for (const [browserId, session] of sessions) {
    const sameSession = !payload.sid || session.claims.sid === payload.sid;
    const samePerson = !payload.sub || session.claims.sub === payload.sub;
    if (sameSession && samePerson) {
      sessions.delete(browserId);
      ended += 1;
    }
  }
  return ended;
}

const body = (req) => new Promise((resolve, reject) => {
  let data = "";
  req.setEncoding("utf8");
  req.on("data", (chunk) => { data += chunk; if (data.length > 16384) req.destroy(); });
  req.on("end", () => resolve(data));
  req.on("error", reject);
});

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (res, status, title, body) => {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`);
};

function browser(req, res) {
  const found = /(?:^|;\s*)demo_oidc=([A-Za-z0-9_-]+)/.exec(req.headers.cookie || "");
  if (found) return found[1];
  const id = randomBytes(16).toString("base64url");
  res.setHeader("set-cookie", `demo_oidc=${id}; Path=/; HttpOnly; SameSite=Lax`);
  return id;
}

const server = createServer(async (req, res) => {
  const origin = `http://127.0.0.1:${server.address().port}`;
  const url = new URL(req.url, origin);
  if (url.pathname === "/backchannel-logout" && req.method === "POST") {
    // The bridge's server, not a browser: no cookie; 200 once the sessions named are gone.
    try {
      const token = new URLSearchParams(await body(req)).get("logout_token");
      const ended = await backchannelLogout(token || "");
      console.log(`demo OIDC app: a back-channel logout ended ${ended} session(s)`);
      res.writeHead(200, { "cache-control": "no-store" });
      return res.end();
    } catch (e) {
      console.error(`demo OIDC app: a logout token refused: ${e.code || ""} ${e.message}`);
      res.writeHead(400, { "content-type": "application/json", "cache-control": "no-store" });
      return res.end(JSON.stringify({ error: "invalid_request" }));
    }
  }
  const id = browser(req, res);
  try {
    if (url.pathname === "/" && sessions.has(id)) {
      const { claims, userinfo, refreshes } = sessions.get(id);
      return page(res, 200, "Demo OpenID Connect app",
        `<p id="who">Signed in as ${escape(claims.email || claims.sub)}</p>` +
        `<p><a href="/refresh">Refresh tokens</a> (<span id="refreshes">${refreshes}</span> so far) · <a href="/logout">Sign out</a></p>` +
        `<h2>ID token</h2><pre id="claims">${escape(JSON.stringify(claims, null, 2))}</pre>` +
        `<h2>UserInfo</h2><pre id="userinfo">${escape(JSON.stringify(userinfo, null, 2))}</pre>`);
    }
    if (url.pathname === "/") {
      const verifier = client.randomPKCECodeVerifier();
      const request = { state: client.randomState(), nonce: client.randomNonce(), verifier };
      pending.set(id, request);
      const to = client.buildAuthorizationUrl(await discover(), {
        redirect_uri: `${origin}/callback`,
        scope: "openid email profile offline_access",
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state: request.state,
        nonce: request.nonce,
      });
      res.writeHead(302, { location: to.href });
      return res.end();
    }
    if (url.pathname === "/callback") {
      const request = pending.get(id);
      pending.delete(id);
      if (!request) return page(res, 400, "No sign-in under way", `<p><a href="/">Start again</a></p>`);
      const tokens = await client.authorizationCodeGrant(await discover(), url, {
        pkceCodeVerifier: request.verifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      });
      const claims = tokens.claims();
      const userinfo = await client.fetchUserInfo(await discover(), tokens.access_token, claims.sub);
      sessions.set(id, { claims, userinfo, idToken: tokens.id_token, refreshToken: tokens.refresh_token, refreshes: 0 });
      res.writeHead(302, { location: "/" });
      return res.end();
    }
    if (url.pathname === "/refresh" && sessions.get(id)?.refreshToken) {
      const session = sessions.get(id);
      // openid-client checks the new ID token as the first (issuer, audience, signature, the same sub).
      const tokens = await client.refreshTokenGrant(await discover(), session.refreshToken);
      const claims = tokens.claims();
      const userinfo = await client.fetchUserInfo(await discover(), tokens.access_token, session.claims.sub);
      sessions.set(id, { claims, userinfo, idToken: tokens.id_token, refreshToken: tokens.refresh_token, refreshes: session.refreshes + 1 });
      res.writeHead(302, { location: "/" });
      return res.end();
    }
    if (url.pathname === "/logout") {
      const session = sessions.get(id);
      sessions.delete(id);
      const to = client.buildEndSessionUrl(await discover(), {
        post_logout_redirect_uri: `${origin}/signed-out`,
        ...(session ? { id_token_hint: session.idToken } : {}),
        state: "demo",
      });
      res.writeHead(302, { location: to.href });
      return res.end();
    }
    if (url.pathname === "/signed-out") {
      return page(res, 200, "Signed out", `<p id="who">Signed out (state ${escape(url.searchParams.get("state"))})</p><p><a href="/">Sign in again</a></p>`);
    }
    page(res, 404, "Not found", "");
  } catch (e) {
    console.error(`demo OIDC app: ${e.code || ""} ${e.message}`);
    page(res, 401, "Sign-in refused", `<p id="error">${escape(e.error || e.code || "error")}: ${escape(e.error_description || e.message)}</p>`);
  }
});

server.listen(Number(args.port), "127.0.0.1", () => console.log(`READY http://127.0.0.1:${server.address().port}`));
