//! The `CustomMessage` trigger's rule: which template, in which language, with which values.
//! Free of the event's AWS types: the trigger handler reads the event and writes the answer.

use std::collections::HashMap;

use super::email::{EmailKind, RenderedEmail, Values, shipped};
use super::ports::{StoredTemplate, template_for};
use crate::common::language::Language;

/// What Cognito tells the trigger about one email.
#[derive(Debug, Clone)]
pub struct MessageRequest<'a> {
    /// The person's attributes (`locale`, `name`, `email`, ...).
    pub attributes: &'a HashMap<String, String>,
    /// The caller's `ClientMetadata`: the form passes the browser's language as `locale` at
    /// sign-up, before the person has a `locale` of their own.
    pub client_metadata: &'a HashMap<String, String>,
    /// Cognito's placeholders (`{####}`, `{username}`).
    pub code_parameter: &'a str,
    pub username_parameter: &'a str,
}

/// The language of the person's emails: their `locale` attribute, else the one the caller
/// passed, else English.
pub fn language(request: &MessageRequest<'_>) -> Language {
    let locale = request.attributes.get("locale").or_else(|| request.client_metadata.get("locale"));
    Language::of(locale.map(String::as_str).filter(|l| !l.trim().is_empty()))
}

/// The email of `kind` for this request, from the operator's templates (`stored`) or the
/// shipped ones, naming `product`.
pub fn custom_message(kind: EmailKind, request: &MessageRequest<'_>, stored: &[StoredTemplate], product: &str) -> RenderedEmail {
    let language = language(request);
    // A reset code the sign-up sent to the owner of an existing account (`signin::sign_up`).
    let kind = match (kind, request.client_metadata.get("reason").map(String::as_str)) {
        (EmailKind::ForgotPassword, Some("account_exists")) => EmailKind::AccountExists,
        (kind, _) => kind,
    };
    let email = request.attributes.get("email").cloned().unwrap_or_default();
    let name = request.attributes.get("name").filter(|n| !n.trim().is_empty()).cloned().unwrap_or_else(|| email.clone());
    let values = Values { code: request.code_parameter.into(), username: request.username_parameter.into(), product: product.into(), name, email };
    // An operator's template whose rendering Cognito would refuse gives way to the shipped one.
    template_for(stored, kind, language).render(&values).or_else(|| shipped(kind, language).render(&values)).unwrap_or_else(|| {
        let short = Values { name: String::new(), ..values.clone() };
        shipped(kind, language).render(&short).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::email::EmailTemplate;

    fn request<'a>(attributes: &'a HashMap<String, String>, metadata: &'a HashMap<String, String>) -> MessageRequest<'a> {
        MessageRequest { attributes, client_metadata: metadata, code_parameter: "{####}", username_parameter: "{username}" }
    }

    #[test]
    fn the_persons_locale_wins_then_the_callers_then_english() {
        let none = HashMap::new();
        let ja = HashMap::from([("locale".to_owned(), "ja-JP".to_owned())]);
        let en = HashMap::from([("locale".to_owned(), "en".to_owned())]);
        assert_eq!(language(&request(&ja, &en)), Language::Ja);
        assert_eq!(language(&request(&en, &ja)), Language::En);
        assert_eq!(language(&request(&none, &ja)), Language::Ja);
        assert_eq!(language(&request(&none, &none)), Language::En);
    }

    #[test]
    fn the_operators_template_is_used_in_its_language_only() {
        let attributes = HashMap::from([("locale".to_owned(), "ja".to_owned()), ("email".to_owned(), "a@example.com".to_owned())]);
        let none = HashMap::new();
        let stored = vec![StoredTemplate {
            kind: EmailKind::SignUp,
            language: Language::En,
            template: EmailTemplate { subject: "Welcome".into(), html: "{{code}}".into() },
            version: 1,
        }];
        let ja = custom_message(EmailKind::SignUp, &request(&attributes, &none), &stored, "Acme");
        assert!(ja.subject.starts_with("【Acme】") && ja.html.contains("a@example.com 様"), "no name: the email: {ja:?}");
        let attributes = HashMap::from([("locale".to_owned(), "en".to_owned())]);
        let en = custom_message(EmailKind::SignUp, &request(&attributes, &none), &stored, "Acme");
        assert_eq!((en.subject.as_str(), en.html.as_str()), ("Welcome", "{####}"));
    }
}
