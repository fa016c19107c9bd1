//! `Email`: an address as the bridge accepts it at sign-in (parsed once, lower-cased).

use std::fmt;

/// An email address: one `@`, a non-empty local part, a dotted domain, at most 254 characters,
/// each a printable ASCII character or a letter or digit of another script (so no spaces,
/// control, invisible or format characters such as U+200B: a subset of what Cognito takes as a
/// user name, letters, marks, symbols, numbers and punctuation). Stored lower-case (Cognito user
/// names are compared case-insensitively in the pools this product creates).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 254 || !s.chars().all(|c| c.is_ascii_graphic() || (!c.is_ascii() && c.is_alphanumeric())) {
            return Err(InvalidEmail);
        }
        let (local, domain) = s.split_once('@').ok_or(InvalidEmail)?;
        let domain_ok = !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
        if local.is_empty() || local.len() > 64 || !domain_ok {
            return Err(InvalidEmail);
        }
        Ok(Self(s.to_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the `@`.
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl fmt::Debug for Email {
    /// Emails are personal data: debug output shows only the domain.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let domain = self.0.rsplit('@').next().unwrap_or_default();
        write!(f, "Email(…@{domain})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(Email::parse("  Hanako.Yamada@Example.CO.jp ").map(|e| e.0), Ok("hanako.yamada@example.co.jp".into()));
        assert_eq!(Email::parse("a+tag@b.io").map(|e| e.local_part().to_owned()), Ok("a+tag".into()));
    }

    #[test]
    fn rejects_what_is_not_an_address() {
        for invisible in ["a\u{200b}@b.co", "\u{feff}a@b.co", "a@b\u{2060}.co", "a\u{202e}@b.co", "a\u{e000}@b.co", "a\u{00ad}@b.co"] {
            assert_eq!(Email::parse(invisible), Err(InvalidEmail), "{invisible:?}");
        }
        assert!(Email::parse("はなこ@例え.jp").is_ok(), "letters of another script");
        for bad in ["", "plain", "@example.com", "a@", "a@b", "a@@b.com", "a b@c.com", "a@b..com", "a@-b.com", "a\u{0}@b.com"] {
            assert_eq!(Email::parse(bad), Err(InvalidEmail), "{bad:?}");
        }
        assert_eq!(Email::parse(&format!("{}@b.com", "a".repeat(65))), Err(InvalidEmail));
    }

    #[test]
    fn debug_hides_the_local_part() {
        let e = Email::parse("secret.person@example.com").map(|e| format!("{e:?}"));
        assert_eq!(e.as_deref(), Ok("Email(…@example.com)"));
    }
}
