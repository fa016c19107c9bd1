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
/// high-risk signal): a door to the form passes its id on as a hint only ([`BrowserDevice`]).
pub const LEGACY_DEVICE: &str = "bridge_device";
/// 2028-01-31 (Unix seconds). Any host of the site can set the old name (the prefix exists to
/// stop that), so it is read only this long.
pub const LEGACY_DEVICE_UNTIL: u64 = 1_832_889_600;

/// The device of a browser at a door to the form: the id its prefixed cookie carries, else a
/// new one (256 random bits), which [`BrowserDevice::set_cookie`] gives it. A sign-in is bound to
/// this id only. The id the browser holds under the old name ([`LEGACY_DEVICE`], until
/// [`LEGACY_DEVICE_UNTIL`]) is kept apart (`legacy`): a hint for the risk engine, never adopted
/// as the new cookie's value, since any sibling subdomain could have set it. The old cookie is
/// left in place (it expires by itself), so the hint lasts until a trusted sign-in from this
/// browser has taught the person's profile the new id, however many doors come before it.
pub struct BrowserDevice<'a> {
    pub id: String,
    /// The old name's id, if the browser sent one of the right length.
    pub legacy: Option<&'a str>,
    /// Whether the browser showed the prefixed cookie.
    known: bool,
}

impl<'a> BrowserDevice<'a> {
    pub fn of(headers: &'a HeaderMap, now: u64) -> Self {
        let sent = device(headers);
        let legacy = read(headers, LEGACY_DEVICE).filter(|d| d.len() == DEVICE_ID_LENGTH && now < LEGACY_DEVICE_UNTIL);
        Self { id: sent.map_or_else(shared::common::random::token, str::to_owned), legacy, known: sent.is_some() }
    }

    /// The `Set-Cookie` value the browser needs: its new cookie, if it has none.
    pub fn set_cookie(&self) -> Option<HeaderValue> {
        if self.known { None } else { set(DEVICE, &self.id, DEVICE_MAX_AGE) }
    }
}

/// How long a device id is: 256 random bits in base64url.
const DEVICE_ID_LENGTH: usize = 43;

/// The device id the request's prefixed device cookie carries; `None` without one of the
/// right length.
pub fn device(headers: &HeaderMap) -> Option<&str> {
    read(headers, DEVICE).filter(|d| d.len() == DEVICE_ID_LENGTH)
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
        // The device: only the prefixed cookie; the old name is a hint until its end date, never
        // the browser's id.
        let id = |c: char| c.to_string().repeat(43);
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_str(&format!("bridge_device={}; other=1", id('a'))).unwrap_or_else(|e| panic!("{e}")));
        assert_eq!(device(&headers), None);
        let at = |now| BrowserDevice::of(&headers, now);
        assert_eq!((at(LEGACY_DEVICE_UNTIL - 1).legacy, at(LEGACY_DEVICE_UNTIL).legacy), (Some(id('a').as_str()), None));
        assert_ne!(at(0).id, id('a'), "a new id, never the old name's");
        assert!(at(0).set_cookie().is_some(), "the new cookie");
        headers.append(COOKIE, HeaderValue::from_str(&format!("__Host-bridge_device={}", id('b'))).unwrap_or_else(|e| panic!("{e}")));
        let both = BrowserDevice::of(&headers, 0);
        assert_eq!((device(&headers), both.id.as_str(), both.legacy), (Some(id('b').as_str()), id('b').as_str(), Some(id('a').as_str())));
        assert!(both.set_cookie().is_none(), "a browser with its cookie gets none");
        headers.insert(COOKIE, HeaderValue::from_static("__Host-bridge_device=short"));
        assert_eq!(device(&headers), None);
        assert!(set("__Host-bridge_session", "v", 60).is_some_and(|v| v.to_str().is_ok_and(|s| s.contains("HttpOnly; Secure; SameSite=Lax"))));
        // What a `__Host-` cookie must be for a browser to keep it.
        for name in [shared::signin::session::COOKIE, DEVICE, shared::signin::corporate::BINDING_COOKIE] {
            let set = set(name, "v", 60).and_then(|v| v.to_str().ok().map(str::to_owned)).unwrap_or_default();
            assert!(name.starts_with("__Host-") && set.contains("; Secure") && set.contains("; Path=/;") && !set.contains("Domain"), "{set}");
        }
    }
}
