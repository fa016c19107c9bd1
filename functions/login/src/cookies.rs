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
/// The device cookie's name before the prefix (December 2026): still read by `/sso/{app}`, which
/// sets the new one with its value, so that browsers the risk engine knew stay known.
pub const LEGACY_DEVICE: &str = "bridge_device";
pub const DEVICE_MAX_AGE: u64 = 400 * 24 * 3600;

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
        assert!(set("__Host-bridge_session", "v", 60).is_some_and(|v| v.to_str().is_ok_and(|s| s.contains("HttpOnly; Secure; SameSite=Lax"))));
        // What a `__Host-` cookie must be for a browser to keep it.
        for name in [shared::signin::session::COOKIE, DEVICE, shared::signin::corporate::BINDING_COOKIE] {
            let set = set(name, "v", 60).and_then(|v| v.to_str().ok().map(str::to_owned)).unwrap_or_default();
            assert!(name.starts_with("__Host-") && set.contains("; Secure") && set.contains("; Path=/;") && !set.contains("Domain"), "{set}");
        }
    }
}
