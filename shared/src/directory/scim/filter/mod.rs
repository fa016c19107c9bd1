//! SCIM filters (RFC 7644 §3.4.2.2): the whole grammar, parsed by recursive descent into a
//! [`Filter`], with errors that name the character where parsing stopped.
//!
//! - [`Filter::parse`]: `eq ne co sw ew gt ge lt le pr`, `and`/`or`/`not` with RFC precedence
//!   (not > and > or), parentheses, value paths (`emails[type eq "work" and value co "@x"]`),
//!   a value path's sub-attribute compared (`emails[type eq "work"].value eq "a@x"`: some
//!   element matches the brackets and its `value` compares true), schema-qualified names
//!   (`urn:...:enterprise:2.0:User:employeeNumber`), case-insensitive keywords and attribute
//!   names. A filter is bounded: [`MAX_LEN`] characters, [`MAX_TERMS`] comparisons,
//!   [`MAX_DEPTH`] levels of nesting; past one the error says so ([`FilterError::too_many`],
//!   SCIM `tooMany`).
//! - [`Filter::lookup`]: the filters clients send constantly (`userName eq`, `externalId eq`,
//!   `id eq`, `emails.value eq`, `emails[... value eq ...]`, `displayName eq`), recognised so the
//!   store can answer them with a key lookup instead of a scan.
//! - [`Filter::matches`]: evaluation over a resource's JSON, for everything else, without
//!   allocating; [`Filter::matches_within`] also counts the work against one request's
//!   [`Budget`].
//!
//! It knows nothing of where resources are stored or of HTTP.

mod ast;
mod bounds;
mod eval;
mod lex;
mod parse;

use serde_json::Value;

use bounds::{err, too_many};
use lex::Lexer;
use parse::Parser;

pub use ast::{AttrPath, CompValue, CompareOp, Filter, Lookup};
pub use bounds::{Budget, FilterError, MAX_DEPTH, MAX_LEN, MAX_TERMS, MAX_WORK, OverBudget};

impl Filter {
    pub fn parse(text: &str) -> Result<Self, FilterError> {
        if text.chars().count() > MAX_LEN {
            return Err(too_many(MAX_LEN + 1, format!("a filter is at most {MAX_LEN} characters")));
        }
        let tokens = Lexer::run(text)?;
        let end = text.chars().count() + 1;
        if tokens.is_empty() {
            return Err(err(1, "the filter is empty"));
        }
        let mut parser = Parser { tokens, next: 0, end, depth: 0, terms: 0 };
        let filter = parser.or(false)?;
        if parser.next < parser.tokens.len() {
            return Err(err(parser.position(), "expected `and`, `or` or the end of the filter"));
        }
        Ok(filter)
    }

    /// The key lookup this filter amounts to, if it is one of the constant ones.
    pub fn lookup(&self) -> Option<Lookup> {
        match self {
            Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(v) } => {
                let v = v.clone();
                if path.is("userName", None) {
                    Some(Lookup::UserName(v))
                } else if path.is("externalId", None) {
                    Some(Lookup::ExternalId(v))
                } else if path.is("id", None) {
                    Some(Lookup::Id(v))
                } else if path.is("emails", Some("value")) || path.is("emails", None) {
                    Some(Lookup::Email(v))
                } else if path.is("displayName", None) {
                    Some(Lookup::DisplayName(v))
                } else {
                    None
                }
            }
            Filter::ValuePath { path, filter } if path.is("emails", None) => email_term(filter).map(|v| Lookup::Email(v.clone())),
            _ => None,
        }
    }

    /// Whether `resource` (a SCIM resource as JSON) matches.
    pub fn matches(&self, resource: &Value) -> bool {
        self.eval(resource, &mut Budget::new(u64::MAX))
    }

    /// Whether `resource` matches, the work done taken from `budget`; `OverBudget` once it is
    /// spent (the evaluation stops there).
    pub fn matches_within(&self, resource: &Value, budget: &mut Budget) -> Result<bool, OverBudget> {
        let matched = self.eval(resource, budget);
        if budget.spent_out { Err(OverBudget) } else { Ok(matched) }
    }
}

/// The email a value path's filter pins with `value eq "..."` (alone or in an `and`).
fn email_term(filter: &Filter) -> Option<&String> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(v) } if path.is("value", None) => Some(v),
        Filter::And(a, b) => email_term(a).or_else(|| email_term(b)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::scim::error::{Invalid, ScimError};
    use serde_json::json;

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
            "id": "2819c223-7f76-453a-919d-413861904646", "externalId": "Ext-1", "userName": "Bjensen@Example.com",
            "name": {"familyName": "Jensen", "givenName": "Barbara"}, "active": true, "title": "Tour Guide",
            "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
            "meta": {"lastModified": "2011-05-13T04:42:34Z", "resourceType": "User"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}},
            "loginCount": 17
        })
    }

    fn m(filter: &str) -> bool {
        Filter::parse(filter).unwrap_or_else(|e| panic!("{filter}: {e}")).matches(&user())
    }

    #[test]
    fn the_rfc_examples_parse_and_match() {
        assert!(m(r#"userName eq "bjensen@example.com""#), "userName ignores case");
        assert!(m(r#"name.familyName co "ens""#));
        assert!(m(r#"userName sw "B""#));
        assert!(m(r#"title pr"#));
        assert!(m(r#"meta.lastModified gt "2011-05-13T04:42:00Z""#));
        assert!(!m(r#"meta.lastModified lt "2011-05-13T04:42:34Z""#));
        assert!(m(r#"meta.lastModified le "2011-05-13T04:42:34Z""#));
        assert!(m(r#"title pr and userType eq "Employee" or emails.type eq "home""#), "and binds tighter than or");
        assert!(!m(r#"title pr and (userType eq "Employee" or emails.type eq "other")"#));
        assert!(m(r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#));
        assert!(m(r#"userType ne "Employee" and not (emails co "example.org")"#));
        assert!(m(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#));
        assert!(m(r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value pr"#));
        assert!(m(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName EQ "BJENSEN@example.com""#));
        assert!(m("active eq true and loginCount ge 17 and loginCount lt 18.5"));
        assert!(m("nickName eq null") && !m("title eq null") && m("title ne null"));
    }

    #[test]
    fn case_exact_attributes_compare_exactly() {
        assert!(m(r#"externalId eq "Ext-1""#) && !m(r#"externalId eq "ext-1""#));
        assert!(!m(r#"id eq "2819C223-7F76-453A-919D-413861904646""#));
    }

    #[test]
    fn constant_lookups_are_recognised() {
        let lookup = |f: &str| Filter::parse(f).unwrap().lookup();
        assert_eq!(lookup(r#"userName eq "A@b.co""#), Some(Lookup::UserName("A@b.co".into())));
        assert_eq!(lookup(r#"USERNAME Eq "x""#), Some(Lookup::UserName("x".into())));
        assert_eq!(lookup(r#"externalId eq "00u1""#), Some(Lookup::ExternalId("00u1".into())));
        assert_eq!(lookup(r#"id eq "u1""#), Some(Lookup::Id("u1".into())));
        assert_eq!(lookup(r#"emails.value eq "a@b.co""#), Some(Lookup::Email("a@b.co".into())));
        assert_eq!(lookup(r#"emails[value eq "a@b.co"]"#), Some(Lookup::Email("a@b.co".into())));
        assert_eq!(lookup(r#"displayName eq "Sales""#), Some(Lookup::DisplayName("Sales".into())));
        assert_eq!(lookup(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x""#), Some(Lookup::UserName("x".into())));
        assert_eq!(lookup(r#"userName co "x""#), None);
        assert_eq!(lookup(r#"userName eq "x" and active eq true"#), None);
        assert_eq!(lookup(r#"urn:example:ext:userName eq "x""#), None);
    }

    #[test]
    fn errors_say_where_and_what() {
        let e = |f: &str| Filter::parse(f).unwrap_err();
        assert_eq!(e(""), FilterError { position: 1, message: "the filter is empty".into(), too_many: false });
        assert_eq!(e(r#"userName eq"#).position, 12);
        assert_eq!(e(r#"userName equals "x""#).message, "`equals` is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)");
        assert_eq!(e(r#"userName eq "x" and"#).message, "expected an attribute name");
        assert_eq!(e(r#"userName eq "x"#).message, "unterminated string");
        assert_eq!(e(r#"(userName eq "x""#).message, "expected `)`");
        assert_eq!(e(r#"not userName eq "x""#).message, "expected `(` after `not`");
        assert_eq!(e(r#"emails[type eq "work""#).message, "expected `]`");
        assert_eq!(e(r#"emails[type[value eq "x"]]"#).message, "value paths cannot nest");
        assert_eq!(e(r#"userName eq "x" "y""#).message, "expected `and`, `or` or the end of the filter");
        assert_eq!(e(r#"userName co 5"#).message, "this operator needs a string (or, for gt/ge/lt/le, a number)");
        assert_eq!(e(r#"active gt true"#).position, 11);
        assert_eq!(e(r#"userName eq 'x'"#).message, "unexpected `'`");
        assert_eq!(e(r#"9lives eq "x""#).message, "`9lives` is not a number");
        assert!(e(&"(".repeat(40)).message.contains("nests too deeply"));
        assert!(e(&format!(r#"userName eq "{}""#, "x".repeat(MAX_LEN))).message.contains("at most"));
    }

    #[test]
    fn hostile_input_is_an_error_never_a_panic() {
        let pieces = [
            "userName", " eq ", " and ", " or ", "not", "(", ")", "[", "]", "\"", "\"x\"", "\\", "é", "日本", "1e999", "-", ".", ":", "$", "pr", "\u{0}",
            "emails", "\"\\u12",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut parsed, mut distinct) = (0, std::collections::HashSet::new());
        for _ in 0..20_000 {
            let text: String = (0..1 + next() % 9).map(|_| pieces[(next() % pieces.len() as u64) as usize]).collect();
            if let Ok(f) = Filter::parse(&text) {
                parsed += 1;
                f.matches(&user());
                f.lookup();
            }
            distinct.insert(text);
        }
        assert!(distinct.len() > 15_000 && parsed > 10, "the sweep exercised {} inputs, {parsed} valid", distinct.len());
    }

    #[test]
    fn a_value_path_sub_attribute_compares_within_the_selected_elements() {
        assert!(m(r#"emails[type eq "work"].value eq "BJENSEN@example.com""#));
        assert!(!m(r#"emails[type eq "home"].value eq "bjensen@example.com""#), "that address is the work one, not the home one");
        assert!(m(r#"emails[type eq "home"].value ew "jensen.org" and userName sw "b""#));
        assert!(m(r#"emails[primary eq true].value pr"#) && !m(r#"emails[type eq "work"].display pr"#));
        let lookup = |f: &str| Filter::parse(f).unwrap().lookup();
        assert_eq!(lookup(r#"emails[type eq "work"].value eq "mika.sato@corp.example""#), Some(Lookup::Email("mika.sato@corp.example".into())));
        assert_eq!(lookup(r#"emails[value eq "a@b.co" and type eq "work"]"#), Some(Lookup::Email("a@b.co".into())));
        assert_eq!(lookup(r#"emails[type eq "work"].value co "@corp.example""#), None);
        let e = |f: &str| Filter::parse(f).unwrap_err().message;
        assert_eq!(e(r#"emails[type eq "work"]."#), "expected a sub-attribute name after `].`");
        assert_eq!(e(r#"emails[type eq "work"].value.x eq "y""#), "expected a sub-attribute name after `].`");
        assert_eq!(e(r#"emails[type eq "work"].value"#), "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)");
    }

    #[test]
    fn filters_past_a_bound_are_too_many_not_invalid() {
        let terms = |n: usize| (0..n).map(|i| format!(r#"userName eq "u{i}""#)).collect::<Vec<_>>().join(" or ");
        assert!(Filter::parse(&terms(MAX_TERMS)).is_ok());
        let over = Filter::parse(&terms(MAX_TERMS + 1)).unwrap_err();
        assert!(over.too_many && over.message.contains(&MAX_TERMS.to_string()), "{over}");
        assert_eq!(over.rule(), Invalid::TooMany);
        let in_brackets = Filter::parse(&format!("emails[{}]", terms(MAX_TERMS + 1).replace("userName", "value"))).unwrap_err();
        assert_eq!(in_brackets.rule(), Invalid::TooMany);
        let nested = |depth: usize| format!("{}title pr{}", "(".repeat(depth), ")".repeat(depth));
        assert!(Filter::parse(&nested(MAX_DEPTH - 1)).is_ok());
        assert_eq!(Filter::parse(&nested(MAX_DEPTH)).unwrap_err().rule(), Invalid::TooMany);
        assert_eq!(Filter::parse(&"x".repeat(MAX_LEN + 1)).unwrap_err().rule(), Invalid::TooMany);
        assert_eq!(Filter::parse("userName eq").unwrap_err().rule(), Invalid::Filter);
    }

    #[test]
    fn evaluation_is_counted_against_the_budget() {
        let f = Filter::parse(r#"emails[value co "example"]"#).unwrap();
        assert_eq!(f.matches_within(&user(), &mut Budget::default()), Ok(true));
        assert_eq!(f.matches_within(&user(), &mut Budget::new(10)), Err(OverBudget));
        // `co` may try its needle at every place: 99,000 places x 1,001 bytes is refused before
        // any of it is done.
        let long = json!({"emails": [{"value": "a".repeat(100_000)}]});
        let needle = Filter::parse(&format!(r#"emails[value co "{}b"]"#, "a".repeat(1000))).unwrap();
        let mut budget = Budget::default();
        assert_eq!(needle.matches_within(&long, &mut budget), Err(OverBudget));
        assert_eq!(f.matches_within(&user(), &mut budget), Err(OverBudget), "a spent budget stays spent");
        assert_eq!(ScimError::from(OverBudget).rule(), Some(Invalid::TooMany));
    }

    #[test]
    fn case_is_ignored_beyond_ascii() {
        let r = json!({"displayName": "Ärger Straße", "title": "東京 本社", "nickName": "Bob"});
        let t = |f: &str| Filter::parse(f).unwrap_or_else(|e| panic!("{f}: {e}")).matches(&r);
        assert!(t(r#"displayName eq "ärger STRAßE""#) && !t(r#"displayName ne "ÄRGER straße""#));
        assert!(t(r#"displayName co "GER S""#) && t(r#"displayName sw "äR""#) && !t(r#"displayName ew "straSSe""#));
        assert!(t(r#"displayName ew "STRAßE""#) && t(r#"displayName gt "ärger a""#) && !t(r#"displayName lt "ÄRGER A""#));
        assert!(t(r#"title co "本社""#) && t(r#"title sw "東京""#) && !t(r#"title ew "東京""#));
        assert!(t(r#"nickName co """#) && t(r#"nickName ew "OB""#) && !t(r#"nickName co "bobby""#) && t(r#"nickName le "BOB""#));
    }

    #[test]
    fn strings_use_json_escapes() {
        let f = Filter::parse(r#"title eq "Tour \"Guide\" \u00e9""#).unwrap();
        assert_eq!(f, Filter::Compare { path: AttrPath::parse("title").unwrap(), op: CompareOp::Eq, value: CompValue::String("Tour \"Guide\" é".into()) });
    }
}
