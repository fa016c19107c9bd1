//! `Email`: an address as the bridge accepts it at sign-in (parsed once, lower-cased).

use std::fmt;

/// An email address: one `@`, a non-empty local part, a dotted domain, at most 254 characters,
/// no spaces, control, invisible or format characters (Unicode's `Cf`: U+200B, U+FEFF, bidi
/// marks...) and no private-use ones: Cognito refuses those in a user name (it takes letters,
/// marks, symbols, numbers and punctuation). Stored lower-case (Cognito user names are compared
/// case-insensitively in the pools this product creates).
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Email(String);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid email address")]
pub struct InvalidEmail;

impl Email {
    pub fn parse(raw: &str) -> Result<Self, InvalidEmail> {
        let s = raw.trim();
        if s.is_empty() || s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control() || invisible(c)) {
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

/// Unicode's format characters (`Cf`, as of Unicode 15) and the private-use planes: invisible,
/// or meaning nothing agreed, so never part of an address anyone can read. Written out (35 code
/// ranges) rather than a general-category crate, whose tables would grow the login package.
fn invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x0600..=0x0605 | 0x061C | 0x06DD | 0x070F | 0x0890..=0x0891 | 0x08E2 | 0x180E
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2064 | 0x2066..=0x206F | 0xFEFF | 0xFFF9..=0xFFFB
        | 0x110BD | 0x110CD | 0x13430..=0x1343F | 0x1BCA0..=0x1BCA3 | 0x1D173..=0x1D17A | 0xE0001 | 0xE0020..=0xE007F
        | 0xE000..=0xF8FF | 0xF0000..=0xFFFFD | 0x100000..=0x10FFFD)
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
        assert!(Email::parse("jose\u{301}@b.co").is_ok() && Email::parse("สมชาย\u{e34}@b.co").is_ok(), "combining marks");
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
