//! Sealed sign-in flows: the state the form carries between steps, signed with HMAC-SHA256 so
//! that the browser can hold it but not change it.
//!
//! A plain token ([`seal`]) is `base64url(json).base64url(mac)`; the JSON names the token's
//! purpose and its expiry, so a token made for one step is refused at another and a stale one is
//! refused at all. It is signed, not encrypted: it holds nothing the person may not see. A step
//! that carries secrets (the person's Cognito tokens while they prove their email and set up an
//! authenticator app; a handoff's session value and app token; a corporate sign-in's nonce and
//! PKCE verifier in its binding cookie) seals a private token instead ([`seal_private`]):
//! `base64url(header).base64url(ciphertext).base64url(mac)`, the value encrypted with AES-256-GCM
//! under a key derived from the same flow key. Each purpose is sealed one way only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::signin::challenge::ChallengeKind;
use crate::tokens::app::AppId;
use crate::tokens::return_to::ReturnTo;

/// Longest token opened, and private token sealed (a Cognito session is about 1 KB; the
/// person's Cognito tokens carried through a step, 2 to 4 KB), but for a handoff.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Longest handoff (a SAML response, with its two signatures and certificates, seals to about
/// 10 KB): the form posts it back as a form's field, `handoff=...` within the API's 16 KiB body.
pub const MAX_HANDOFF_LEN: usize = 16_000;

/// The longest token of `purpose`.
fn max_len(purpose: Purpose) -> usize {
    if purpose == Purpose::Handoff { MAX_HANDOFF_LEN } else { MAX_TOKEN_LEN }
}

/// Which step a token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// Issued by `GET /sso/{app}`; carried by the form to `/login` and `/password/*`.
    Context,
    /// Issued with a Cognito challenge; carried to `/login/challenge`.
    Challenge,
    /// Issued by `/corporate/start`; carried to `/corporate/go`.
    Corporate,
    /// Issued by `/corporate/go` as the binding cookie; carried to `/corporate/callback`.
    CorporateBinding,
    /// Issued by a password sign-in; carried to `/session/handoff`.
    Handoff,
    /// Issued by `/signup` (or a sign-in of an account not confirmed yet); carried to
    /// `/signup/confirm` and `/signup/resend`.
    SignUp,
    /// Issued by an OpenID Connect client's sign-in as its authorization code; carried to
    /// `/oauth2/token`.
    AuthorizationCode,
    /// Issued by `/oauth2/token` as the access token; carried to `/oauth2/userinfo`.
    AccessToken,
    /// Issued by `/oauth2/token` as a refresh token; carried back to `/oauth2/token` and
    /// `/oauth2/revoke`.
    RefreshToken,
    /// Issued by an OpenID Connect client's logout through a company's single sign-out: the
    /// client's page to return to, carried to `/logout/done` as the provider's `state`.
    AfterLogout,
    /// Issued with the consent step; carried to `/consent`.
    Consent,
    /// Issued by `GET /account` for a live session: the account page's bearer token.
    Account,
    /// Issued by the account page's fresh sign-in step: every change to the account.
    Elevated,
    /// Issued with the code Cognito asks for during that step.
    Reauthentication,
    /// Issued by the account page's email change with its code; carried to its verification.
    EmailChange,
    /// Sealed by the corporate callback: a connection's client secret, kept in its organisation's
    /// record (`signin::corporate::client_secret`). Never given to a browser.
    ConnectionSecret,
}

/// Where this sign-in is going: the app, the checked `return_to`, and the app's own request id
/// where its protocol has one (DiscourseConnect's nonce, with its return URL as `return_to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInContext {
    pub app: AppId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_to: Option<ReturnTo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// An OpenID Connect client's authorization request, checked (its `redirect_uri` is
    /// `return_to`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<crate::tokens::targets::oidc::CheckedRequest>,
    /// The digest of the browser's device cookie (`risk`), from `/sso/{app}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// The digest of the id the browser held under the device cookie's old, unprefixed name
    /// (until 2028-01-31): the risk engine counts the browser as that known device, and learns
    /// `device`. Never what the sign-in is bound to: any sibling subdomain can set that name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub known_as: Option<String>,
    /// The store key of the browser's live session that this sign-in replaces (the entry found
    /// it not enough for the app): once the new session is the browser's, the old one is carried
    /// into it (`SessionStore::carry`), so that its apps are told when the new one ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// A SAML service provider's request (its `ID`, `RelayState` and what it asked of the
    /// sign-in), checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<crate::tokens::saml::authn_request::SamlRequest>,
}

impl SignInContext {
    /// Whether the app asked for a fresh sign-in, whatever the session: an OpenID Connect
    /// client's `prompt=login` or `max_age`, a SAML request's `ForceAuthn`.
    pub fn fresh(&self) -> bool {
        self.authorization.as_ref().is_some_and(|a| a.fresh) || self.saml.as_ref().is_some_and(|s| s.force_authn)
    }

    /// Whether the app asked for no page at all: `prompt=none`, a SAML request's `IsPassive`.
    pub fn silent(&self) -> bool {
        self.authorization.as_ref().is_some_and(|a| a.silent) || self.saml.as_ref().is_some_and(|s| s.passive)
    }
}

/// The digest a sign-in knows a browser's device by (a context's `device`, an event's), from its
/// device cookie's id: none for a missing, empty or over-long (more than 128 bytes) one.
pub fn device_digest(cookie: Option<&str>) -> Option<String> {
    cookie.filter(|d| !d.is_empty() && d.len() <= 128).map(crate::common::hashing::digest)
}

/// Whether the browser showing device cookie `cookie` is the device a context claims
/// (`claimed`, a digest): never when it claims none. Compared in constant time. A sealed context
/// travels in a URL; the sign-in it leads to is good only where its cookie is (every door to the
/// form binds its context to a device), so it neither carries that browser's standing elsewhere
/// nor plants its session in someone else's browser (login CSRF).
pub fn device_shown(claimed: Option<&str>, cookie: Option<&str>) -> bool {
    let Some(claimed) = claimed else { return false };
    let shown = device_digest(cookie).unwrap_or_default();
    subtle::ConstantTimeEq::ct_eq(shown.as_bytes(), claimed.as_bytes()).into()
}

/// A Cognito challenge in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChallengeState {
    pub ctx: SignInContext,
    pub challenge: ChallengeKind,
    /// Cognito's user name for this person (needed in every challenge answer).
    pub username: String,
    /// Cognito's opaque session for the next `RespondToAuthChallenge`.
    pub session: String,
    /// How the sign-in began (a password, an email code, a passkey): what a Cognito
    /// `EMAIL_OTP` answers (a second factor after a password, a first one on its own).
    #[serde(default, skip_serializing_if = "is_password")]
    pub method: crate::signin::session::Method,
    /// The email typed, for a sign-in without a password (its history, its count of tries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Consent decisions the sign-in brings (from sign-up), recorded once it is through.
    #[serde(default, skip_serializing_if = "crate::consent::decision::Given::is_empty")]
    pub given: crate::consent::decision::Given,
}

fn is_password(method: &crate::signin::session::Method) -> bool {
    *method == crate::signin::session::Method::Password
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("the sign-in flow token is malformed or was altered")]
    Invalid,
    #[error("the sign-in flow token has expired")]
    Expired,
    /// Sealing only: the value would seal to more than [`MAX_TOKEN_LEN`], which no open accepts.
    #[error("the sign-in flow would be too large to carry")]
    TooLarge,
}

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    p: Purpose,
    exp: u64,
    v: T,
}

/// Signs `value` for `purpose`, valid until `expires_at` (seconds since the epoch).
pub fn seal<T: Serialize>(key: &SecretString, purpose: Purpose, expires_at: u64, value: &T) -> String {
    let json = serde_json::to_vec(&Envelope { p: purpose, exp: expires_at, v: value }).unwrap_or_default();
    let payload = B64.encode(json);
    let mac = B64.encode(mac(key, payload.as_bytes()).finalize().into_bytes());
    format!("{payload}.{mac}")
}

/// Verifies `token` (in constant time) and returns its value if it is for `purpose` and not
/// expired at `now`.
pub fn open<T: DeserializeOwned>(key: &SecretString, purpose: Purpose, token: &str, now: u64) -> Result<T, FlowError> {
    unwrapped(signed_part(key, token, purpose)?, purpose, now)
}

/// The value of a plain token's signed `payload` (its [`Envelope`], base64url), if for `purpose`
/// and not expired at `now`.
fn unwrapped<T: DeserializeOwned>(payload: &str, purpose: Purpose, now: u64) -> Result<T, FlowError> {
    let json = B64.decode(payload).map_err(|_| FlowError::Invalid)?;
    let envelope: Envelope<T> = serde_json::from_slice(&json).map_err(|_| FlowError::Invalid)?;
    current(envelope.p, envelope.exp, purpose, now)?;
    Ok(envelope.v)
}

/// What a private token signs beside its ciphertext: [`Envelope`] without the value.
#[derive(Serialize, Deserialize)]
struct Header {
    p: Purpose,
    exp: u64,
}

/// Seals `value` for `purpose` until `expires_at`, encrypted ([`encrypt`]) and padded to a
/// multiple of [`PADDING`] bytes, so the browser carrying it reads nothing in it, its length
/// included (within a step): `{header}.{ciphertext}.{mac}`, each part base64url, the header
/// (purpose and expiry) bound to the ciphertext twice: as its associated data, and by the MAC (as
/// [`seal`]'s) over the first two parts.
///
/// Errors: [`FlowError::TooLarge`] when the token would be longer than [`MAX_TOKEN_LEN`] (the
/// value's JSON over 5,632 bytes; a handoff's [`MAX_HANDOFF_LEN`]), so that no step hands out
/// what no step opens.
pub fn seal_private<T: Serialize>(key: &SecretString, purpose: Purpose, expires_at: u64, value: &T) -> Result<String, FlowError> {
    let mut json = serde_json::to_string(value).unwrap_or_default();
    let padded = json.len().div_ceil(PADDING).max(1) * PADDING;
    json.extend(std::iter::repeat_n(' ', padded - json.len()));
    let header = B64.encode(serde_json::to_vec(&Header { p: purpose, exp: expires_at }).unwrap_or_default());
    let signed = format!("{header}.{}", encrypt(key, &json, header.as_bytes()));
    let tag = B64.encode(mac(key, signed.as_bytes()).finalize().into_bytes());
    Some(format!("{signed}.{tag}")).filter(|token| token.len() <= max_len(purpose)).ok_or(FlowError::TooLarge)
}

/// What [`seal_private`] sealed, if intact, for `purpose` and not expired at `now`.
pub fn open_private<T: DeserializeOwned>(key: &SecretString, purpose: Purpose, token: &str, now: u64) -> Result<T, FlowError> {
    let signed = signed_part(key, token, purpose)?;
    let (ciphertext, associated) = match signed.split_once('.') {
        Some((header, ciphertext)) => {
            let read: Header = B64.decode(header).ok().and_then(|json| serde_json::from_slice(&json).ok()).ok_or(FlowError::Invalid)?;
            current(read.p, read.exp, purpose, now)?;
            (ciphertext.to_owned(), header)
        }
        // Sealed before the header stood beside the ciphertext (the ciphertext was the value of a
        // plain token, base64 twice, with no associated data): opened until the last of those has
        // expired (a kept client secret, 24 hours after it was sealed). To remove in the next release.
        None => (unwrapped::<String>(signed, purpose, now)?, ""),
    };
    let plain = decrypt(key, &ciphertext, associated.as_bytes()).ok_or(FlowError::Invalid)?;
    serde_json::from_str(plain.expose_secret()).map_err(|_| FlowError::Invalid)
}

/// The part of `token` its last dot ends, if what follows that dot is `key`'s MAC over it
/// (checked in constant time) and the token is at most as long as one of `purpose` may be.
fn signed_part<'a>(key: &SecretString, token: &'a str, purpose: Purpose) -> Result<&'a str, FlowError> {
    if token.len() > max_len(purpose) {
        return Err(FlowError::Invalid);
    }
    let (signed, tag) = token.rsplit_once('.').ok_or(FlowError::Invalid)?;
    let tag = B64.decode(tag).map_err(|_| FlowError::Invalid)?;
    mac(key, signed.as_bytes()).verify_slice(&tag).map_err(|_| FlowError::Invalid)?;
    Ok(signed)
}

/// Whether a token's purpose `p` is `purpose` and its `exp` is after `now`.
fn current(p: Purpose, exp: u64, purpose: Purpose, now: u64) -> Result<(), FlowError> {
    if p != purpose {
        return Err(FlowError::Invalid);
    }
    if exp <= now {
        return Err(FlowError::Expired);
    }
    Ok(())
}

/// [`seal_private`] pads to a multiple of this many bytes.
pub const PADDING: usize = 512;

/// `plaintext` encrypted for a sealed flow (AES-256-GCM, a random nonce, `associated` as its
/// associated data; base64url). The browser carrying it can neither read nor change it.
fn encrypt(key: &SecretString, plaintext: &str, associated: &[u8]) -> String {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
    let mut nonce = [0u8; NONCE_LEN];
    crate::common::random::fill(&mut nonce);
    let cipher = secret_key(key);
    let sealing = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &cipher).unwrap_or_else(|_| unreachable!("a 32-byte key")));
    let mut data = plaintext.as_bytes().to_vec();
    sealing.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(associated), &mut data).unwrap_or_else(|_| unreachable!("in-memory"));
    let mut out = nonce.to_vec();
    out.extend(data);
    B64.encode(out)
}

/// What [`encrypt`] encrypted, if `sealed` is intact and was made with `key` and `associated`.
fn decrypt(key: &SecretString, sealed: &str, associated: &[u8]) -> Option<SecretString> {
    use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
    let bytes = B64.decode(sealed).ok()?;
    let (nonce, data) = (bytes.get(..NONCE_LEN)?, bytes.get(NONCE_LEN..)?);
    let opening = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &secret_key(key)).ok()?);
    let mut data = data.to_vec();
    let plain = opening.open_in_place(Nonce::try_assume_unique_for_key(nonce).ok()?, Aad::from(associated), &mut data).ok()?;
    String::from_utf8(plain.to_vec()).ok().map(SecretString::from)
}

/// The encryption key: derived from the flow key, never the MAC key itself.
fn secret_key(key: &SecretString) -> [u8; 32] {
    crate::common::hashing::hmac_sha256(key.expose_secret().as_bytes(), &[b"sealed secrets"])
}

fn mac(key: &SecretString, data: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key.expose_secret().as_bytes()).unwrap_or_else(|_| unreachable!());
    m.update(data);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claimed_device_is_shown_only_by_its_own_cookie() {
        let claimed = crate::common::hashing::digest("browser-a");
        assert!(!device_shown(None, None) && !device_shown(None, Some("browser-a")), "a context that claims no device is good nowhere");
        assert!(device_shown(Some(&claimed), Some("browser-a")));
        for other in [None, Some(""), Some("browser-b"), Some(claimed.as_str())] {
            assert!(!device_shown(Some(&claimed), other), "{other:?}");
        }
    }

    fn key() -> SecretString {
        SecretString::from("k".repeat(32))
    }

    fn ctx() -> SignInContext {
        SignInContext {
            app: AppId::parse("demo").unwrap_or_else(|e| panic!("{e}")),
            return_to: None,
            nonce: None,
            authorization: None,
            device: None,
            known_as: None,
            replaces: None,
            saml: None,
        }
    }

    #[test]
    fn encrypted_secrets_open_only_intact_and_under_the_same_key() {
        let sealed = encrypt(&key(), "access-token", b"header");
        assert_ne!(encrypt(&key(), "access-token", b"header"), sealed, "a fresh nonce each time");
        assert_eq!(decrypt(&key(), &sealed, b"header").map(|s| s.expose_secret().to_owned()).as_deref(), Some("access-token"));
        assert!(decrypt(&SecretString::from("other".repeat(8)), &sealed, b"header").is_none());
        assert!(decrypt(&key(), &sealed, b"another").is_none(), "bound to its associated data");
        let mut bytes = B64.decode(&sealed).unwrap_or_default();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert!(decrypt(&key(), &B64.encode(bytes), b"header").is_none());
        assert!(!sealed.contains("access"));
    }

    #[test]
    fn private_tokens_hide_their_content_and_its_length() {
        let sealed = |value: &SignInContext| seal_private(&key(), Purpose::Challenge, 100, value).unwrap_or_else(|e| panic!("{e}"));
        let short = sealed(&ctx());
        let longer = sealed(&SignInContext { nonce: Some("n".repeat(300)), ..ctx() });
        assert_eq!(short.len(), longer.len(), "the same padded length");
        let readable = |part: &str| B64.decode(part).map(|bytes| String::from_utf8_lossy(&bytes).into_owned()).unwrap_or_default();
        assert!(!short.contains("demo") && short.split('.').all(|part| !readable(part).contains("demo")), "nothing readable: {short}");
        assert_eq!(open_private::<SignInContext>(&key(), Purpose::Challenge, &short, 99), Ok(ctx()));
        assert_eq!(open_private::<SignInContext>(&key(), Purpose::Context, &short, 99), Err(FlowError::Invalid));
        assert_eq!(
            open_private::<SignInContext>(&key(), Purpose::Challenge, &seal(&key(), Purpose::Challenge, 100, &ctx()), 99),
            Err(FlowError::Invalid),
            "a plain token is not a private one"
        );
    }

    #[test]
    fn a_private_tokens_header_is_signed_with_its_ciphertext() {
        let token = seal_private(&key(), Purpose::Challenge, 100, &ctx()).unwrap_or_else(|e| panic!("{e}"));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3, "header, ciphertext, MAC");
        assert_eq!(open_private::<SignInContext>(&key(), Purpose::Challenge, &token, 100), Err(FlowError::Expired));
        // Another header (a later expiry, another purpose) on the same ciphertext and MAC.
        for (header, purpose) in [(r#"{"p":"challenge","exp":10000}"#, Purpose::Challenge), (r#"{"p":"handoff","exp":100}"#, Purpose::Handoff)] {
            let forged = format!("{}.{}.{}", B64.encode(header), parts[1], parts[2]);
            assert_eq!(open_private::<SignInContext>(&key(), purpose, &forged, 99), Err(FlowError::Invalid), "{header}");
        }
        // Parts missing, empty, or more of them.
        for broken in [
            format!("{}.{}", parts[0], parts[2]),
            format!(".{}.{}", parts[1], parts[2]),
            format!("{}..{}", parts[0], parts[2]),
            format!("{token}."),
            format!("x.{token}"),
        ] {
            assert_eq!(open_private::<SignInContext>(&key(), Purpose::Challenge, &broken, 99), Err(FlowError::Invalid), "{broken}");
        }
        // The header of a token expiring later, on this one's ciphertext.
        let later = seal_private(&key(), Purpose::Challenge, 10_000, &ctx()).unwrap_or_else(|e| panic!("{e}"));
        let spliced = format!("{}.{}.{}", later.split('.').next().unwrap_or_default(), parts[1], parts[2]);
        assert_eq!(open_private::<SignInContext>(&key(), Purpose::Challenge, &spliced, 100), Err(FlowError::Invalid));
        assert_eq!(open::<String>(&key(), Purpose::Challenge, &token, 99), Err(FlowError::Invalid), "no plain token");
        // One sealed before the header stood apart (the ciphertext inside a plain token) still opens.
        let before = seal(&key(), Purpose::Challenge, 100, &encrypt(&key(), &serde_json::to_string(&ctx()).unwrap_or_default(), b""));
        assert_eq!(open_private::<SignInContext>(&key(), Purpose::Challenge, &before, 99), Ok(ctx()));
        assert_eq!(open_private::<SignInContext>(&key(), Purpose::Handoff, &before, 99), Err(FlowError::Invalid));
    }

    #[test]
    fn a_private_token_too_large_to_open_is_never_sealed() {
        // 5,632 bytes of JSON (a string and its quotes) pad to 5,632 and seal within the limit; one
        // byte more pads to 6,144, which would not.
        let fits = "x".repeat(5_630);
        let sealed = seal_private(&key(), Purpose::Challenge, 100, &fits).unwrap_or_else(|e| panic!("{e}"));
        assert!(sealed.len() <= MAX_TOKEN_LEN);
        assert_eq!(open_private::<String>(&key(), Purpose::Challenge, &sealed, 99), Ok(fits.clone()));
        assert_eq!(seal_private(&key(), Purpose::Challenge, 100, &format!("{fits}x")), Err(FlowError::TooLarge));
        // A handoff (which may carry a SAML response) takes 11,776 bytes of JSON.
        let fits = "x".repeat(11_774);
        let sealed = seal_private(&key(), Purpose::Handoff, 100, &fits).unwrap_or_else(|e| panic!("{e}"));
        assert!(sealed.len() <= MAX_HANDOFF_LEN && sealed.len() > MAX_TOKEN_LEN);
        assert_eq!(open_private::<String>(&key(), Purpose::Handoff, &sealed, 99), Ok(fits.clone()));
        assert_eq!(seal_private(&key(), Purpose::Handoff, 100, &format!("{fits}x")), Err(FlowError::TooLarge));
        // Only a handoff is opened at that length.
        let long = seal_private(&key(), Purpose::Challenge, 100, &"x".repeat(5_630)).unwrap_or_default() + &"A".repeat(MAX_TOKEN_LEN);
        assert_eq!(open_private::<String>(&key(), Purpose::Challenge, &long, 99), Err(FlowError::Invalid));
    }

    #[test]
    fn round_trips_until_expiry() {
        let t = seal(&key(), Purpose::Context, 100, &ctx());
        assert_eq!(open::<SignInContext>(&key(), Purpose::Context, &t, 99), Ok(ctx()));
        assert_eq!(open::<SignInContext>(&key(), Purpose::Context, &t, 100), Err(FlowError::Expired));
    }

    #[test]
    fn refuses_altered_foreign_and_misused_tokens() {
        let t = seal(&key(), Purpose::Context, 100, &ctx());
        let (payload, tag) = t.split_once('.').unwrap_or_default();
        let forged_payload = B64.encode(br#"{"p":"context","exp":100,"v":{"app":"evil"}}"#);
        for bad in [
            format!("{forged_payload}.{tag}"),
            format!("{payload}.{}", B64.encode([0u8; 32])),
            format!("{payload}."),
            payload.to_owned(),
            String::new(),
            "a".repeat(MAX_TOKEN_LEN + 1),
        ] {
            assert_eq!(open::<SignInContext>(&key(), Purpose::Context, &bad, 1), Err(FlowError::Invalid), "{bad}");
        }
        assert_eq!(open::<SignInContext>(&SecretString::from("x".repeat(32)), Purpose::Context, &t, 1), Err(FlowError::Invalid));
        assert_eq!(open::<SignInContext>(&key(), Purpose::Challenge, &t, 1), Err(FlowError::Invalid));
    }
}
