//! Keeping the user directory (the Cognito user pool) in step with SCIM users.
//!
//! DynamoDB holds the truth. After each change the service works out the [`Desired`] directory
//! state from the record and the organisation's domains, and [`converge`]s: it makes only the
//! directory calls the difference needs, compared with what was last applied ([`Link`]). Every
//! step is idempotent, so a retry after a crash or a failed call is always safe.
//!
//! The directory user's `name` is `displayName`, else `name.formatted`, else the given and
//! family names in the order of the person's language: family name first for Japanese, Chinese
//! and Korean (`preferredLanguage` or `locale`), or when both names are written in CJK script.
//!
//! [`check_sign_in_email`] refuses up front a sign-in email the directory (Cognito) could never
//! take, so such a user is not stored only to fail its sync forever.

use serde_json::Value;

use super::directory_user::{DirectoryUser, Link};
use super::error::{Invalid, ScimError};
use super::resource::Record;
use crate::directory::org::Organisation;
use crate::directory::ports::{DirectoryError, UserDirectory};

/// What the directory should hold for one SCIM user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Desired {
    Present(DirectoryUser),
    /// The email is outside the organisation's domains: no directory user may sign in as it.
    /// An existing one is disabled; none is created.
    Outside {
        email: Option<String>,
    },
    /// Deleted with the `delete` policy.
    Absent,
}

/// Whether `email`'s domain is one of `org`'s (any case).
pub fn in_domains(org: &Organisation, email: &str) -> bool {
    email.rsplit_once('@').is_some_and(|(_, d)| org.domains.iter().any(|o| o.as_str().eq_ignore_ascii_case(d)))
}

/// The directory state `record` calls for. `deleted`: the record was deleted (`purge`: with the
/// `delete` policy).
pub fn desired(org: &Organisation, record: &Record, deleted: bool, purge: bool) -> Desired {
    if deleted && purge {
        return Desired::Absent;
    }
    let email = record.primary_email();
    let in_domain = email.as_deref().is_some_and(|e| in_domains(org, e));
    let email = match email {
        Some(email) if in_domain => email,
        email => return Desired::Outside { email },
    };
    let name = record.data.get("name");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned).filter(|s| !s.trim().is_empty());
    let given_name = text(name.and_then(|n| n.get("givenName")));
    let family_name = text(name.and_then(|n| n.get("familyName")));
    let full = text(record.data.get("displayName")).or_else(|| text(name.and_then(|n| n.get("formatted")))).or_else(|| match (&given_name, &family_name) {
        (Some(g), Some(f)) if family_first(record, g, f) => Some(format!("{f} {g}")),
        (Some(g), Some(f)) => Some(format!("{g} {f}")),
        (g, f) => g.clone().or(f.clone()),
    });
    Desired::Present(DirectoryUser {
        email: email.to_lowercase(),
        given_name,
        family_name,
        name: full,
        org: org.id.as_str().to_owned(),
        scim_id: record.id.clone(),
        enabled: record.active() && !deleted,
    })
}

/// Whether the person's full name puts the family name first: their language (`preferredLanguage`,
/// else `locale`) is Japanese, Chinese or Korean, or both names are written in CJK script.
fn family_first(record: &Record, given: &str, family: &str) -> bool {
    let language = ["preferredLanguage", "locale"].iter().find_map(|a| record.text(a).filter(|l| !l.trim().is_empty()));
    let primary = language.map(|l| l.trim().split(['-', '_', ',', ';']).next().unwrap_or_default().to_ascii_lowercase());
    let cjk = |name: &str| name.chars().any(is_cjk) && name.chars().all(|c| is_cjk(c) || c.is_whitespace() || c == '・' || c == '-');
    match primary.as_deref() {
        Some("ja" | "zh" | "ko") => true,
        _ => cjk(given) && cjk(family),
    }
}

/// Han, kana and Hangul (with the kana iteration and length marks).
fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{3005}' | '\u{3040}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{FF66}'..='\u{FF9F}' | '\u{1100}'..='\u{11FF}' | '\u{3130}'..='\u{318F}' | '\u{AC00}'..='\u{D7AF}' | '\u{20000}'..='\u{2FA1F}')
}

/// Refuses (400 `invalidValue`, saying why) a user whose sign-in email ([`Record::sign_in_email`])
/// the directory would be asked to take and never could. Addresses outside the organisation's
/// domains never reach the directory and are not checked.
pub fn check_sign_in_email(org: &Organisation, record: &Record) -> Result<(), ScimError> {
    let Some((attribute, email)) = record.sign_in_email() else { return Ok(()) };
    let domain = email.rsplit_once('@').map(|(_, d)| d.trim().trim_end_matches('.')).unwrap_or_default();
    if !org.domains.iter().any(|o| o.as_str().eq_ignore_ascii_case(domain)) {
        return Ok(());
    }
    match directory_email_problem(email) {
        None => Ok(()),
        Some(why) => Err(ScimError::invalid(Invalid::Value, format!("`{attribute}` {email:?} cannot be a sign-in email: {why}"))),
    }
}

/// Why Cognito would refuse `email` as a user's address, if it would: it takes an ASCII
/// dot-atom local part (RFC 5322 `atext` and dots, no leading, trailing or doubled dot) of at
/// most 64 characters, `@`, and a dotted domain of ASCII letters, digits and hyphens without a
/// trailing dot; no spaces anywhere.
pub fn directory_email_problem(email: &str) -> Option<&'static str> {
    if email.chars().any(char::is_whitespace) {
        return Some("it contains a space");
    }
    if email.chars().any(char::is_control) {
        return Some("it contains a control character");
    }
    if email.len() > 254 {
        return Some("it is longer than 254 characters");
    }
    let Some((local, domain)) = email.split_once('@') else { return Some("it has no `@`") };
    if domain.contains('@') {
        return Some("it has more than one `@`");
    }
    if local.is_empty() {
        return Some("nothing comes before the `@`");
    }
    if !local.is_ascii() {
        return Some("the part before the `@` has non-ASCII characters, which Cognito does not take");
    }
    if local.len() > 64 {
        return Some("the part before the `@` is longer than 64 characters");
    }
    if !local.bytes().all(|b| b.is_ascii_alphanumeric() || b".!#$%&'*+/=?^_`{|}~-".contains(&b)) {
        return Some("the part before the `@` has a character an address cannot have there");
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("the part before the `@` starts or ends with a dot, or has two dots in a row");
    }
    if domain.ends_with('.') {
        return Some("the domain ends with a dot");
    }
    let label_ok = |l: &str| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-') && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !domain.contains('.') || !domain.split('.').all(label_ok) {
        return Some("the domain is not a dotted name of ASCII letters, digits and hyphens");
    }
    None
}

/// Makes the directory match `desired`, starting from `link`; returns the new link.
pub async fn converge(directory: &dyn UserDirectory, link: &Link, desired: &Desired) -> Result<Link, DirectoryError> {
    match desired {
        Desired::Absent => {
            if let Some(username) = &link.username {
                directory.delete(username).await?;
            }
            Ok(Link::default())
        }
        Desired::Outside { .. } => {
            let applied = match (&link.username, &link.applied) {
                (Some(username), Some(applied)) if applied.enabled => {
                    directory.set_enabled(username, false).await?;
                    Some(DirectoryUser { enabled: false, ..applied.clone() })
                }
                (_, applied) => applied.clone(),
            };
            Ok(Link { username: link.username.clone(), applied, outside_domain: true })
        }
        Desired::Present(user) => {
            let username = match &link.username {
                Some(username) => match update(directory, username, link.applied.as_ref(), user).await {
                    // Deleted outside the bridge: provision it again.
                    Err(DirectoryError::Gone) => directory.create(user).await?,
                    other => other.map(|()| username.clone())?,
                },
                None => directory.create(user).await?,
            };
            Ok(Link { username: Some(username), applied: Some(user.clone()), outside_domain: false })
        }
    }
}

/// The calls that take `username` from `applied` to `user`.
async fn update(directory: &dyn UserDirectory, username: &str, applied: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<(), DirectoryError> {
    if applied.is_none_or(|a| !a.same_attributes(user)) {
        directory.update(username, applied, user).await?;
    }
    if applied.is_none_or(|a| a.enabled != user.enabled) {
        directory.set_enabled(username, user.enabled).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::org::{EmailDomain, OrgId, OrgPolicies};
    use serde_json::json;

    fn org() -> Organisation {
        let domain = |d: &str| EmailDomain::parse(d).unwrap_or_else(|e| panic!("{e}"));
        Organisation {
            id: OrgId::parse("org-1").unwrap_or_else(|e| panic!("{e}")),
            name: "Corp".into(),
            domains: vec![domain("corp.example"), domain("corp.co.jp")],
            policies: OrgPolicies::default(),
            connection: None,
            version: 1,
        }
    }

    fn user(data: Value) -> Record {
        Record {
            kind: super::super::resource::Kind::User,
            id: "u-1".into(),
            version: 1,
            created: String::new(),
            last_modified: String::new(),
            data: serde_json::from_value(data).unwrap_or_else(|e| panic!("{e}")),
        }
    }

    fn name_of(mut data: Value) -> Option<String> {
        data["userName"] = json!("hanako@corp.co.jp");
        match desired(&org(), &user(data), false, false) {
            Desired::Present(u) => u.name,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_full_name_follows_the_persons_language() {
        let names = |g: &str, f: &str| json!({"givenName": g, "familyName": f});
        assert_eq!(name_of(json!({"name": names("花子", "山田")})).as_deref(), Some("山田 花子"), "both names in CJK script");
        assert_eq!(name_of(json!({"name": names("Hanako", "Yamada"), "preferredLanguage": "ja"})).as_deref(), Some("Yamada Hanako"));
        assert_eq!(name_of(json!({"name": names("Hanako", "Yamada"), "locale": "ja-JP"})).as_deref(), Some("Yamada Hanako"));
        assert_eq!(name_of(json!({"name": names("민준", "김")})).as_deref(), Some("김 민준"));
        assert_eq!(name_of(json!({"name": names("Hanako", "Yamada"), "locale": "en-US"})).as_deref(), Some("Hanako Yamada"));
        assert_eq!(name_of(json!({"name": names("Hanako", "山田")})).as_deref(), Some("Hanako 山田"), "mixed scripts: given name first");
        assert_eq!(name_of(json!({"name": names("Jan", "Novák"), "locale": "jam"})).as_deref(), Some("Jan Novák"), "`jam` is not Japanese");
        // What the client composed wins.
        assert_eq!(name_of(json!({"name": {"givenName": "花子", "familyName": "山田", "formatted": "山田　花子"}})).as_deref(), Some("山田　花子"));
        assert_eq!(name_of(json!({"name": names("花子", "山田"), "displayName": "Hanako Yamada"})).as_deref(), Some("Hanako Yamada"));
        assert_eq!(name_of(json!({"name": {"familyName": "山田"}})).as_deref(), Some("山田"));
    }

    #[test]
    fn addresses_cognito_cannot_take_are_refused_up_front() {
        let check = |data: Value| check_sign_in_email(&org(), &user(data));
        for bad in [
            "sato ken@corp.example",
            "佐藤@corp.example",
            "ken.@corp.example",
            "ken@corp.example.",
            ".ken@corp.example",
            "ken..sato@corp.example",
            "ken(x)@corp.example",
        ] {
            let e = check(json!({"userName": bad})).unwrap_err();
            assert_eq!(e.rule(), Some(Invalid::Value), "{bad}");
            assert!(e.to_string().starts_with("`userName`") && e.to_string().contains("cannot be a sign-in email"), "{bad}: {e}");
        }
        let e = check(json!({"userName": "ken", "emails": [{"value": "x@corp.example"}, {"value": "佐藤@corp.example", "primary": true}]})).unwrap_err();
        assert!(e.to_string().starts_with("`emails`") && e.to_string().contains("non-ASCII"), "{e}");
        assert!(check(json!({"userName": "ken.@corp.example"})).unwrap_err().to_string().contains("dot"));
        assert!(check(json!({"userName": "ken@corp.example."})).unwrap_err().to_string().contains("the domain ends with a dot"));
        for good in ["ken@corp.example", "Ken.Sato+tag@CORP.example", "o'brien@corp.co.jp", "ken_sato-1@corp.example"] {
            assert_eq!(check(json!({"userName": good})), Ok(()), "{good}");
        }
        // Only the sign-in email is checked, and only where it would reach Cognito.
        assert_eq!(check(json!({"userName": "sato ken@corp.example", "emails": [{"value": "ken@corp.example"}]})), Ok(()));
        assert_eq!(check(json!({"userName": "ken", "emails": [{"value": "ken@corp.example", "primary": true}, {"value": "佐藤@corp.example"}]})), Ok(()));
        assert_eq!(check(json!({"userName": "sato ken@gmail.example"})), Ok(()));
        assert_eq!(check(json!({"userName": "not an email"})), Ok(()));
    }
}
