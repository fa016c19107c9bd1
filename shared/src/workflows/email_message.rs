//! What an email step says, and to whom: its subject and text in one or more languages
//! ([`Texts`]), their limits, and the rule for its recipient ([`recipient`]). Data and pure
//! functions only; the connector that sends it is `workflows::email_step`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

use crate::common::email::Email;
use crate::common::language::Language;

/// Longest subject (characters), before and after rendering.
pub const MAX_SUBJECT: usize = 200;
/// Longest text (characters) a flow may write.
pub const MAX_TEXT: usize = 10_000;

/// A text in one or more languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Texts {
    /// The same for everyone.
    One(String),
    /// By language (`en`, `ja`); at least one.
    ByLanguage(BTreeMap<Language, String>),
}

impl<'de> Deserialize<'de> for Texts {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Value::deserialize(d)? {
            Value::String(text) => Ok(Self::One(text)),
            Value::Object(by) => by
                .into_iter()
                .map(|(tag, text)| match (Language::parse(&tag), text) {
                    (Some(language), Value::String(text)) => Ok((language, text)),
                    _ => Err(D::Error::custom(format!("`{tag}`: texts are keyed by language (`en`, `ja`), each a string"))),
                })
                .collect::<Result<_, _>>()
                .map(Self::ByLanguage),
            _ => Err(D::Error::custom("a text is a string, or strings by language (`en`, `ja`)")),
        }
    }
}

impl Texts {
    /// The text for `language`: its own, else English, else the first given.
    pub fn pick(&self, language: Language) -> &str {
        match self {
            Self::One(text) => text,
            Self::ByLanguage(by) => by.get(&language).or_else(|| by.get(&Language::En)).or_else(|| by.values().next()).map_or("", String::as_str),
        }
    }

    /// Whether every text has 1 to `max` characters (and there is at least one).
    pub fn fits(&self, max: usize) -> bool {
        let fits = |t: &String| (1..=max).contains(&t.chars().count());
        match self {
            Self::One(text) => fits(text),
            Self::ByLanguage(by) => !by.is_empty() && by.values().all(fits),
        }
    }
}

/// Whom an email step for `event` (its JSON) goes to, and in which language: the event's
/// `user.email` when `user.email_verified` is `true`, in `user.locale`'s language. The reason
/// it goes nowhere otherwise.
pub fn recipient(event: &Value) -> Result<(Email, Language), String> {
    let user = &event["user"];
    let address = user["email"].as_str().filter(|_| user["email_verified"] == true).and_then(|e| Email::parse(e).ok());
    let address = address.ok_or("the event's person has no verified email address: nothing was sent")?;
    Ok((address, Language::of(user["locale"].as_str())))
}

/// `subject` on one line (each control character a space), at most [`MAX_SUBJECT`] characters.
pub fn one_line(subject: &str) -> String {
    subject.chars().map(|c| if c.is_control() { ' ' } else { c }).take(MAX_SUBJECT).collect::<String>().trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_subject_is_one_line_and_cut() {
        assert_eq!(one_line("Hello\r\nBcc: x@y\t!"), "Hello  Bcc: x@y !");
        assert_eq!(one_line(&"あ".repeat(300)).chars().count(), MAX_SUBJECT);
    }

    #[test]
    fn only_a_verified_address_is_a_recipient() {
        let person = |verified: Value| json!({"user": {"email": "Hanako@Example.com", "email_verified": verified, "locale": "ja-JP"}});
        assert_eq!(recipient(&person(json!(true))).map(|(e, l)| (e.as_str().to_owned(), l)), Ok(("hanako@example.com".into(), Language::Ja)));
        for unproven in [person(json!(false)), person(Value::Null), person(json!("true")), json!({"user": {"email_verified": true}})] {
            assert!(recipient(&unproven).is_err(), "{unproven}");
        }
    }
}
