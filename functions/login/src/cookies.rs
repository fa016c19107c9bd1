//! The cookies the login function sets on its API domain: the bridge session
//! (`__Host-bridge_session`), the corporate sign-in's browser binding (`__Host-bridge_corporate`)
//! and the device cookie (`__Host-bridge_device`, a random id that lets risk assessment recognise
//! a browser it has seen; it grants nothing). All are `HttpOnly; Secure; Path=/`, without
//! `Domain`: never readable by scripts. The `__Host-` prefix makes browsers refuse any cookie of
//! that name that another host (a sibling subdomain) or plain HTTP tries to set, so no one can
//! plant their own session in someone else's browser.
//! The session and binding cookies are `SameSite=Lax`: sent on top-level navigations from other
//! sites (an app's link, the provider's redirect back), not on their subrequests or POSTs. The
//! device cookie is `SameSite=None`, so that the form's top-level POST of a handoff (from the
//! form's site) shows it too: a device claimed in a sealed context counts only in the browser
//! that holds the cookie.

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};

/// The device cookie's name and lifetime (400 days, the most browsers keep a cookie).
pub const DEVICE: &str = "__Host-bridge_device";
pub const DEVICE_MAX_AGE: u64 = 400 * 24 * 3600;
/// The device cookie's name before the prefix (December 2026), read until
/// [`LEGACY_DEVICE_UNTIL`] so that browsers the risk engine knew stay known (a new device is a
/// high-risk signal): `/sso/{app}` sets the new cookie with its value and clears it.
pub const LEGACY_DEVICE: &str = "bridge_device";
/// 2028-01-31 (Unix seconds). Any host of the site can set the old name (the prefix exists to
/// stop that), so it is read only this long.
pub const LEGACY_DEVICE_UNTIL: u64 = 1_832_889_600;

/// The device id a browser sent: 256 random bits (43 characters, base64url), under
/// [`DEVICE`], else (until [`LEGACY_DEVICE_UNTIL`]) under [`LEGACY_DEVICE`].
pub struct SentDevice<'a> {
    pub id: &'a str,
    /// Under the old name: `/sso/{app}` moves it to the new one.
    pub legacy: bool,
}

/// The device of a browser at a door to the form: the id its cookie carries, else a new one
/// (256 random bits), which [`BrowserDevice::cookies`] gives it.
pub struct BrowserDevice<'a> {
    pub id: String,
    sent: Option<SentDevice<'a>>,
}

impl<'a> BrowserDevice<'a> {
    pub fn of(headers: &'a HeaderMap, now: u64) -> Self {
        let sent = device(headers, now);
        let id = sent.as_ref().map_or_else(shared::signin::oidc::random_token, |d| d.id.to_owned());
        Self { id, sent }
    }

    /// The `Set-Cookie` values the browser needs: its new cookie, or the old name's moved to
    /// the prefixed one.
    pub fn cookies(&self) -> Vec<HeaderValue> {
        let legacy = self.sent.as_ref().map(|d| d.legacy);
        let mut out: Vec<HeaderValue> = Vec::new();
        if legacy != Some(false) {
            out.extend(set(DEVICE, &self.id, DEVICE_MAX_AGE));
        }
        if legacy == Some(true) {
            out.push(clear(LEGACY_DEVICE));
        }
        out
    }
}

/// The device cookie the request carries, at `now` (Unix seconds); `None` without one of the
/// right length.
pub fn device(headers: &HeaderMap, now: u64) -> Option<SentDevice<'_>> {
    let id = |name| read(headers, name).filter(|d| d.len() == 43);
    match id(DEVICE) {
        Some(id) => Some(SentDevice { id, legacy: false }),
        None if now < LEGACY_DEVICE_UNTIL => id(LEGACY_DEVICE).map(|id| SentDevice { id, legacy: true }),
        None => None,
    }
}

/// The value of cookie `name` in the request (the first one, if the browser sent several).
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// `Set-Cookie` for `name=value`, kept for `max_age` seconds.
pub fn set(name: &str, value: &str, max_age: u64) -> Option<HeaderValue> {
    let same_site = if name == DEVICE { "None" } else { "Lax" };
    HeaderValue::from_str(&format!("{name}={value}; Max-Age={max_age}; Path=/; HttpOnly; Secure; SameSite={same_site}")).ok()
}

/// `Set-Cookie` that removes `name`.
pub fn clear(name: &str) -> HeaderValue {
    set(name, "", 0).unwrap_or_else(|| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_named_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; __Host-bridge_session=abc"));
        headers.append(COOKIE, HeaderValue::from_static("__Host-bridge_corporate=\"xyz\""));
        assert_eq!(read(&headers, "__Host-bridge_session"), Some("abc"));
        assert_eq!(read(&headers, "__Host-bridge_corporate"), Some("xyz"));
        assert_eq!(read(&headers, "bridge"), None);
        // The device: the prefixed cookie first; the old name only until its end date.
        let id = |c: char| c.to_string().repeat(43);
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_str(&format!("bridge_device={}; other=1", id('a'))).unwrap_or_else(|e| panic!("{e}")));
        let sent = |h: &HeaderMap, now| device(h, now).map(|d| (d.id.to_owned(), d.legacy));
        assert_eq!(sent(&headers, LEGACY_DEVICE_UNTIL - 1), Some((id('a'), true)));
        assert_eq!(sent(&headers, LEGACY_DEVICE_UNTIL), None);
        headers.append(COOKIE, HeaderValue::from_str(&format!("__Host-bridge_device={}", id('b'))).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(sent(&headers, 0), Some((id('b'), false)));
        headers.insert(COOKIE, HeaderValue::from_static("__Host-bridge_device=short"));
        assert_eq!(sent(&headers, 0), None);
        assert!(set("__Host-bridge_session", "v", 60).is_some_and(|v| v.to_str().is_ok_and(|s| s.contains("HttpOnly; Secure; SameSite=Lax"))));
        // What a `__Host-` cookie must be for a browser to keep it.
        for name in [shared::signin::session::COOKIE, DEVICE, shared::signin::corporate::BINDING_COOKIE] {
            let set = set(name, "v", 60).and_then(|v| v.to_str().ok().map(str::to_owned)).unwrap_or_default();
            assert!(name.starts_with("__Host-") && set.contains("; Secure") && set.contains("; Path=/;") && !set.contains("Domain"), "{set}");
        }
    }
}
