//! An email Cognito sends, as the `CustomMessage` trigger answers it: a subject and an HTML body
//! holding Cognito's code placeholder, in Japanese or English.
//!
//! Templates name what they show with placeholders: `{{code}}` (the code, or an invitation's
//! temporary password), `{{username}}` (an invitation's user name), `{{product}}` (the operator's
//! product name), `{{name}}` (the person's `name`, else their email) and `{{email}}`. Cognito puts
//! the code and user name in itself: the trigger answers with its placeholders (`{####}`,
//! `{username}`) where the template has `{{code}}` and `{{username}}`. Values the person or the
//! operator chose are escaped for HTML in the body.
//!
//! Cognito's limits (its `CustomMessage` trigger documentation): a subject of at most 140
//! characters, a message of at most 20,000, and the code placeholder in every message (and the
//! user name's in an invitation); a message without them fails the operation that sent it.

use serde::{Deserialize, Serialize};

use crate::common::language::Language;

/// Longest subject a template may have (characters; Cognito's limit is 140 after rendering,
/// and a product name and a person's name are added).
pub const MAX_SUBJECT: usize = 100;
/// Longest body a template may have (characters; Cognito's limit is 20,000 after rendering).
pub const MAX_HTML: usize = 16_000;
/// Longest subject Cognito accepts (characters): a longer rendering is cut there.
const COGNITO_MAX_SUBJECT: usize = 140;
/// Longest message Cognito accepts (characters).
const COGNITO_MAX_MESSAGE: usize = 20_000;

/// Which email: one per `CustomMessage` trigger source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EmailKind {
    /// `CustomMessage_SignUp`: the code that confirms a new account.
    SignUp,
    /// `CustomMessage_ResendCode`: the same, sent again.
    ResendCode,
    /// `CustomMessage_ForgotPassword`: the password reset code.
    ForgotPassword,
    /// `CustomMessage_UpdateUserAttribute`: the code confirming a changed email.
    UpdateAttribute,
    /// `CustomMessage_VerifyUserAttribute`: the code verifying an email.
    VerifyAttribute,
    /// `CustomMessage_AdminCreateUser`: an invitation with a temporary password.
    Invitation,
    /// `CustomMessage_Authentication`: an email sign-in or MFA code.
    SignInCode,
    /// `CustomMessage_ForgotPassword` sent because someone tried to create an account with the
    /// email of an existing one (`ClientMetadata.reason = "account_exists"`): the owner is told,
    /// with a password reset code.
    AccountExists,
}

impl EmailKind {
    pub const ALL: [Self; 8] = [
        Self::SignUp,
        Self::ResendCode,
        Self::ForgotPassword,
        Self::UpdateAttribute,
        Self::VerifyAttribute,
        Self::Invitation,
        Self::SignInCode,
        Self::AccountExists,
    ];

    /// The kind of a `CustomMessage_*` trigger source; `None` for any other.
    pub fn of_trigger(source: &str) -> Option<Self> {
        Some(match source {
            "CustomMessage_SignUp" => Self::SignUp,
            "CustomMessage_ResendCode" => Self::ResendCode,
            "CustomMessage_ForgotPassword" => Self::ForgotPassword,
            "CustomMessage_UpdateUserAttribute" => Self::UpdateAttribute,
            "CustomMessage_VerifyUserAttribute" => Self::VerifyAttribute,
            "CustomMessage_AdminCreateUser" => Self::Invitation,
            "CustomMessage_Authentication" => Self::SignInCode,
            _ => return None,
        })
    }

    /// The kebab-case name (`sign-up`), as the admin tool and the store spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::SignUp => "sign-up",
            Self::ResendCode => "resend-code",
            Self::ForgotPassword => "forgot-password",
            Self::UpdateAttribute => "update-attribute",
            Self::VerifyAttribute => "verify-attribute",
            Self::Invitation => "invitation",
            Self::SignInCode => "sign-in-code",
            Self::AccountExists => "account-exists",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The placeholders this kind's body must hold.
    fn required(self) -> &'static [&'static str] {
        match self {
            Self::Invitation => &["code", "username"],
            _ => &["code"],
        }
    }
}

/// A subject and an HTML body with placeholders (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailTemplate {
    pub subject: String,
    pub html: String,
}

/// Why an operator's template is refused (the message names what to fix).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TemplateError(pub String);

const PLACEHOLDERS: [&str; 5] = ["code", "username", "product", "name", "email"];

impl EmailTemplate {
    /// Checks a template for `kind`: a one-line subject of 1 to [`MAX_SUBJECT`] characters, a
    /// body of at most [`MAX_HTML`] with the placeholders Cognito needs, and no placeholder
    /// this module does not know.
    pub fn validate(&self, kind: EmailKind) -> Result<(), TemplateError> {
        let subject = self.subject.as_str();
        if subject.trim().is_empty() || subject.chars().count() > MAX_SUBJECT || subject.chars().any(char::is_control) {
            return Err(TemplateError(format!("a subject is one line of 1 to {MAX_SUBJECT} characters")));
        }
        if self.html.trim().is_empty() || self.html.chars().count() > MAX_HTML {
            return Err(TemplateError(format!("a body is 1 to {MAX_HTML} characters")));
        }
        for text in [&self.subject, &self.html] {
            if let Some(unknown) = placeholders(text).find(|p| !PLACEHOLDERS.contains(p)) {
                return Err(TemplateError(format!(
                    "unknown placeholder {{{{{unknown}}}}} (known: {})",
                    PLACEHOLDERS.map(|p| format!("{{{{{p}}}}}")).join(", ")
                )));
            }
        }
        if placeholders(&self.subject).any(|p| p == "code" || p == "username") {
            return Err(TemplateError("the code and the user name go in the body, not the subject".into()));
        }
        for needed in kind.required() {
            if !placeholders(&self.html).any(|p| p == *needed) {
                return Err(TemplateError(format!("the {} email's body must hold {{{{{needed}}}}}", kind.name())));
            }
        }
        Ok(())
    }

    /// The email for `values`, with Cognito's placeholders where the code and user name go;
    /// `None` when its body would be longer than Cognito takes (the caller then uses another).
    pub fn render(&self, values: &Values) -> Option<RenderedEmail> {
        let mut subject = fill(&self.subject, values, false);
        if subject.chars().count() > COGNITO_MAX_SUBJECT {
            subject = subject.chars().take(COGNITO_MAX_SUBJECT - 1).chain(['…']).collect();
        }
        let html = fill(&self.html, values, true);
        (html.chars().count() <= COGNITO_MAX_MESSAGE).then_some(RenderedEmail { subject, html })
    }
}

/// What a template's placeholders stand for in one email.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Values {
    /// Cognito's code placeholder (`request.codeParameter`, `{####}`), or a code for a preview.
    pub code: String,
    /// Cognito's user name placeholder (`request.usernameParameter`), or a name for a preview.
    pub username: String,
    pub product: String,
    /// The person's `name`, else their email.
    pub name: String,
    pub email: String,
}

/// A subject and HTML body ready for Cognito.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RenderedEmail {
    pub subject: String,
    pub html: String,
}

/// The names between `{{` and `}}` in `text`.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split("{{").skip(1).filter_map(|rest| rest.split_once("}}").map(|(name, _)| name.trim()))
}

fn fill(text: &str, values: &Values, html: bool) -> String {
    let (mut out, mut rest) = (String::with_capacity(text.len() + 64), text);
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some((name, after)) = rest[start + 2..].split_once("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let value = match name.trim() {
            // Cognito's own placeholders, put in as they came (Cognito replaces them).
            "code" => values.code.clone(),
            "username" => values.username.clone(),
            "product" => shown(&values.product, html),
            "name" => shown(&values.name, html),
            "email" => shown(&values.email, html),
            _ => String::new(),
        };
        out.push_str(&value);
        rest = after;
    }
    out.push_str(rest);
    out
}

/// A value someone chose, without control characters and without braces (it must never hold
/// Cognito's `{####}` or `{username}`: the code would go where the value goes), escaped for HTML
/// in a body (braces as entities there; dropped in a subject).
fn shown(value: &str, html: bool) -> String {
    let clean = value.chars().filter(|c| !c.is_control());
    if !html {
        return clean.filter(|c| !matches!(c, '{' | '}')).collect();
    }
    let mut out = String::with_capacity(value.len() + 16);
    for c in clean {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '{' => out.push_str("&#123;"),
            '}' => out.push_str("&#125;"),
            c => out.push(c),
        }
    }
    out
}

/// The subject and the paragraphs (after the greeting) the bridge ships for `kind` in `language`.
fn shipped_text(kind: EmailKind, language: Language) -> (&'static str, &'static [&'static str]) {
    match language {
        Language::Ja => japanese(kind),
        Language::En => english(kind),
    }
}

/// The shipped Japanese texts.
fn japanese(kind: EmailKind) -> (&'static str, &'static [&'static str]) {
    use EmailKind as K;
    match kind {
        K::SignUp => (
            "【{{product}}】確認コードのお知らせ",
            &[
                "{{product}} へのご登録ありがとうございます。",
                "確認コード: <strong>{{code}}</strong>（24時間有効）",
                "お心当たりがない場合は、このメールを破棄してください。",
            ],
        ),
        K::ResendCode => (
            "【{{product}}】確認コードの再送",
            &["新しい確認コード: <strong>{{code}}</strong>（24時間有効）", "お心当たりがない場合は、このメールを破棄してください。"],
        ),
        K::ForgotPassword => (
            "【{{product}}】パスワード再設定のご案内",
            &[
                "パスワード再設定用の確認コード: <strong>{{code}}</strong>（1時間有効）",
                "お心当たりがない場合は、このメールを破棄してください。パスワードは変わりません。",
            ],
        ),
        K::UpdateAttribute | K::VerifyAttribute => (
            "【{{product}}】メールアドレスの確認",
            &["メールアドレス確認用のコード: <strong>{{code}}</strong>（24時間有効）", "このコードを他人に教えないでください。"],
        ),
        K::Invitation => (
            "【{{product}}】アカウントのご案内",
            &[
                "{{product}} のアカウントを作成しました。",
                "サインインに使うメールアドレス: <strong>{{email}}</strong><br>仮パスワード: <strong>{{code}}</strong>",
                "初回のサインインで新しいパスワードを設定してください。",
                "<small>お問い合わせ用のユーザー ID: {{username}}</small>",
            ],
        ),
        K::SignInCode => {
            ("【{{product}}】サインイン用コード", &["サインイン用のコード: <strong>{{code}}</strong>（数分間有効）", "このコードを他人に教えないでください。"])
        }
        K::AccountExists => (
            "【{{product}}】アカウントはすでにあります",
            &[
                "このメールアドレスで {{product}} のアカウントを作成しようとする操作がありましたが、このアドレスのアカウントはすでにあります。",
                "サインインしてください。パスワードをお忘れの場合は、サインイン画面の「パスワードをお忘れですか？」で次のコードを使えます: <strong>{{code}}</strong>（1時間有効）",
                "お心当たりがない場合は、このメールを破棄してください。アカウントは変わりません。",
            ],
        ),
    }
}

/// The shipped English texts.
fn english(kind: EmailKind) -> (&'static str, &'static [&'static str]) {
    use EmailKind as K;
    match kind {
        K::SignUp => (
            "Your {{product}} verification code",
            &[
                "Thank you for signing up to {{product}}.",
                "Your verification code is <strong>{{code}}</strong>. It expires in 24 hours.",
                "If you did not sign up, ignore this email.",
            ],
        ),
        K::ResendCode => (
            "Your new {{product}} verification code",
            &["Your new verification code is <strong>{{code}}</strong>. It expires in 24 hours.", "If you did not ask for it, ignore this email."],
        ),
        K::ForgotPassword => (
            "Reset your {{product}} password",
            &[
                "Your password reset code is <strong>{{code}}</strong>. It expires in 1 hour.",
                "If you did not ask to reset your password, ignore this email: your password stays as it is.",
            ],
        ),
        K::UpdateAttribute | K::VerifyAttribute => {
            ("Confirm your email address for {{product}}", &["Your confirmation code is <strong>{{code}}</strong>. It expires in 24 hours.", "Never share it."])
        }
        K::Invitation => (
            "Your {{product}} account",
            &[
                "An account on {{product}} was created for you.",
                "Sign in with: <strong>{{email}}</strong><br>Temporary password: <strong>{{code}}</strong>",
                "You will choose your own password when you first sign in.",
                "<small>Your user ID, should you contact support: {{username}}</small>",
            ],
        ),
        K::SignInCode => {
            ("Your {{product}} sign-in code", &["Your sign-in code is <strong>{{code}}</strong>. It expires in a few minutes.", "Never share it."])
        }
        K::AccountExists => (
            "You already have an account with {{product}}",
            &[
                "Someone tried to create a {{product}} account with this email address, which already has one.",
                "Sign in instead. If you forgot your password, use this code under \"Forgot your password?\" on the sign-in page: <strong>{{code}}</strong> (valid for 1 hour).",
                "If it was not you, ignore this email: nothing about your account changed.",
            ],
        ),
    }
}

/// The template the bridge ships for `kind` in `language`.
pub fn shipped(kind: EmailKind, language: Language) -> EmailTemplate {
    use EmailKind as K;
    use Language::{En, Ja};
    let (subject, lines) = shipped_text(kind, language);
    // Who signs up chooses the name, for an address that may be someone else's: those emails
    // greet the address, so nobody can put words of theirs in an email the operator sends.
    let greeting = match (kind, language) {
        (K::SignUp | K::ResendCode | K::AccountExists, Ja) => "{{email}} 様",
        (K::SignUp | K::ResendCode | K::AccountExists, En) => "Hello {{email}},",
        (_, Ja) => "{{name}} 様",
        (_, En) => "Hello {{name}},",
    };
    let body: String = std::iter::once(greeting).chain(lines.iter().copied()).map(|line| format!("<p>{line}</p>")).collect();
    EmailTemplate { subject: subject.into(), html: format!("<html lang=\"{}\"><body>{body}</body></html>", language.tag()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            code: "{####}".into(),
            username: "{username}".into(),
            product: "Acme <Help>".into(),
            name: "山田 \"花子\"".into(),
            email: "hanako@example.com".into(),
        }
    }

    #[test]
    fn every_shipped_template_is_valid_and_renders_cognitos_placeholders_in_its_language() {
        for kind in EmailKind::ALL {
            for language in Language::ALL {
                let template = shipped(kind, language);
                template.validate(kind).unwrap_or_else(|e| panic!("{kind:?} {language:?}: {e}"));
                let email = template.render(&values()).unwrap();
                assert!(email.html.contains("{####}"), "{kind:?} {language:?}");
                assert_eq!(email.html.contains("{username}"), kind == EmailKind::Invitation);
                let by_address = matches!(kind, EmailKind::SignUp | EmailKind::ResendCode | EmailKind::AccountExists);
                assert!(!email.html.contains("<Help>"), "values are escaped: {}", email.html);
                assert_eq!(
                    email.html.contains("山田 &quot;花子&quot;"),
                    !by_address,
                    "{kind:?}: the name, escaped, where it is not the person's own choice: {}",
                    email.html
                );
                assert!(email.subject.contains("Acme <Help>") && !email.subject.contains("{{"), "{}", email.subject);
                assert_eq!(email.html.contains("様"), language == Language::Ja);
            }
        }
    }

    #[test]
    fn an_operators_template_needs_the_codes_placeholders_and_only_known_ones() {
        let template = |subject: &str, html: &str| EmailTemplate { subject: subject.into(), html: html.into() };
        let ok = template("Your code", "<p>{{code}}</p>");
        assert_eq!(ok.validate(EmailKind::SignUp), Ok(()));
        assert!(ok.validate(EmailKind::Invitation).is_err(), "an invitation names the user");
        for (bad, why) in [
            (template("Your code", "<p>no code</p>"), "no code"),
            (template("Your code", "<p>{{code}} {{password}}</p>"), "an unknown placeholder"),
            (template("Code {{code}}", "<p>{{code}}</p>"), "the code in the subject"),
            (template("", "<p>{{code}}</p>"), "an empty subject"),
            (template("two\nlines", "<p>{{code}}</p>"), "a subject of two lines"),
            (template(&"x".repeat(MAX_SUBJECT + 1), "<p>{{code}}</p>"), "a long subject"),
            (template("Code", &format!("{{{{code}}}}{}", "x".repeat(MAX_HTML))), "a long body"),
        ] {
            assert!(bad.validate(EmailKind::SignUp).is_err(), "{why}");
        }
    }

    #[test]
    fn a_long_subject_is_cut_to_cognitos_limit_and_a_broken_placeholder_stays_text() {
        let template = EmailTemplate { subject: "{{product}} {{name}}".into(), html: "<p>{{code}} {{unclosed</p>".into() };
        let email = template.render(&Values { product: "P".repeat(100), name: "N".repeat(100), code: "{####}".into(), ..Values::default() }).unwrap();
        assert_eq!(email.subject.chars().count(), 140);
        assert_eq!(email.html, "<p>{####} {{unclosed</p>");
    }

    #[test]
    fn a_persons_values_never_carry_cognitos_placeholders_and_a_body_stays_within_cognitos_limit() {
        let template = EmailTemplate { subject: "Hi {{name}}".into(), html: "<p>{{name}}: {{code}}</p>".into() };
        let email = template.render(&Values { name: "{####} {username}".into(), code: "{####}".into(), ..Values::default() }).unwrap();
        assert_eq!(email.subject, "Hi #### username", "no code in the subject");
        assert_eq!(email.html, "<p>&#123;####&#125; &#123;username&#125;: {####}</p>", "one code, where the template puts it");
        let many = EmailTemplate { subject: "Hi".into(), html: "{{code}}{{name}}{{name}}{{name}}".into() };
        assert_eq!(many.render(&Values { name: "<".repeat(2048), ..Values::default() }), None, "over 20,000 characters");
        let padded = EmailTemplate { subject: "Code\r\n".into(), html: "{{code}}".into() };
        assert!(padded.validate(EmailKind::SignUp).is_err(), "a subject ending in CRLF");
    }

    #[test]
    fn kinds_read_from_their_trigger_source_and_name() {
        for kind in EmailKind::ALL {
            assert_eq!(EmailKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(EmailKind::of_trigger("CustomMessage_AdminCreateUser"), Some(EmailKind::Invitation));
        assert_eq!(EmailKind::of_trigger("PostConfirmation_ConfirmSignUp"), None);
    }
}
