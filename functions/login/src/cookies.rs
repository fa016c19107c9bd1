//! The cookies the login function sets on its API domain: the bridge session
//! (`bridge_session`), the corporate sign-in's browser binding (`bridge_corporate`) and the
//! device cookie (`bridge_device`, a random id that lets risk assessment recognise a browser it
//! has seen; it grants nothing). All are `HttpOnly; Secure; Path=/`: never readable by scripts.
//! The session and binding cookies are `SameSite=Lax`: sent on top-level navigations from other
//! sites (an app's link, the provider's redirect back), not on their subrequests or POSTs. The
//! device cookie is `SameSite=None`, so that the form's top-level POST of a handoff (from the
//! form's site) shows it too: a device claimed in a sealed context counts only in the browser
//! that holds the cookie.

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue};

/// The device cookie's name and lifetime (400 days, the most browsers keep a cookie).
pub const DEVICE: &str = "bridge_device";
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
        headers.append(COOKIE, HeaderValue::from_static("a=1; bridge_session=abc"));
        headers.append(COOKIE, HeaderValue::from_static("bridge_corporate=\"xyz\""));
        assert_eq!(read(&headers, "bridge_session"), Some("abc"));
        assert_eq!(read(&headers, "bridge_corporate"), Some("xyz"));
        assert_eq!(read(&headers, "bridge"), None);
        assert!(set("bridge_session", "v", 60).is_some_and(|v| v.to_str().is_ok_and(|s| s.contains("HttpOnly; Secure; SameSite=Lax"))));
    }
}
