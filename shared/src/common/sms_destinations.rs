//! Where one-time codes by SMS may go: the operator's allow-list of E.164 prefixes
//! (`SMS_ALLOWED_PREFIXES`, for example `+81,+1604`), the defence against SMS pumping (someone
//! sets premium-rate numbers as their phone and has codes sent to them, at the operator's cost).
//! A prefix is a country calling code or longer, so one area of a shared code (`+1` is the
//! whole North American plan, Caribbean islands included) can be let in alone.
//!
//! Checked where a number enters (the account page) and where a code leaves (the custom SMS
//! sender), so a number set before the list, or by another door, gets no code either. Not a
//! rate limit: those are `signin::account_changes`'s and Cognito's own.

use std::str::FromStr;

/// The prefixes codes may go to; empty (the default) lets every number through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsDestinations {
    prefixes: Vec<String>,
}

impl SmsDestinations {
    /// Whether a code may go to `phone` (E.164: `+` and digits). Always, without a list.
    pub fn allows(&self, phone: &str) -> bool {
        self.prefixes.is_empty() || self.prefixes.iter().any(|p| phone.starts_with(p.as_str()))
    }
}

/// Parses `+81,+1604` (commas or any whitespace between): each a `+` and 1 to 7 digits. Empty: any
/// number. Errors name the entry that is not a prefix.
impl FromStr for SmsDestinations {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let prefixes = raw
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .map(|p| {
                let digits = p.strip_prefix('+').unwrap_or_default();
                let ok = (1..=7).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0');
                ok.then(|| p.to_owned()).ok_or_else(|| format!("{p:?} is not an E.164 prefix (+ and 1 to 7 digits, as +81 or +1604)"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { prefixes })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(raw: &str) -> SmsDestinations {
        raw.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_list_lets_in_its_prefixes_only() {
        let japan_and_vancouver = list("+81,\t+1604\n");
        assert!(japan_and_vancouver.allows("+819012345678"));
        assert!(japan_and_vancouver.allows("+16045550100"));
        assert!(!japan_and_vancouver.allows("+18765550100"), "another area of +1");
        assert!(!japan_and_vancouver.allows("+88212345678"));
        assert!(!japan_and_vancouver.allows("819012345678"), "not E.164");
        assert!(SmsDestinations::default().allows("+88212345678"), "no list: any number");
        assert_eq!(list(" , "), SmsDestinations::default());
    }

    #[test]
    fn an_entry_that_is_not_a_prefix_is_refused_by_name() {
        for bad in ["81", "+", "+0", "+12345678", "+8l", "+81;+1"] {
            let error = bad.parse::<SmsDestinations>().unwrap_err();
            assert!(error.contains(&format!("{bad:?}")), "{bad}: {error}");
        }
    }
}
