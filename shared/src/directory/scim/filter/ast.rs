//! A parsed filter: [`Filter`] and its parts ([`AttrPath`], [`CompareOp`], [`CompValue`]), and
//! the [`Lookup`] a constant filter amounts to. Parsing whole filters is `lex`/`parse`,
//! evaluating them `eval`.

use serde_json::Number;
use std::fmt;

/// `[urn ":"] name ["." sub]`, as written (compare with [`AttrPath::is`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(Number),
    String(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `path[filter]`: some element of the multi-valued `path` matches `filter`.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

/// A filter the store can answer with one key lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    UserName(String),
    ExternalId(String),
    Id(String),
    Email(String),
    DisplayName(String),
}

/// Schemas whose attributes sit at the top level of a resource.
pub(super) const CORE_SCHEMAS: &[&str] = &["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"];

impl AttrPath {
    pub fn parse(word: &str) -> Option<Self> {
        let (uri, rest) = match word.rfind(':') {
            Some(i) => (Some(word[..i].to_owned()), &word[i + 1..]),
            None => (None, word),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        let valid = |s: &str| {
            s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '$')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !valid(name) || sub.is_some_and(|s| !valid(s)) || uri.as_deref().is_some_and(str::is_empty) {
            return None;
        }
        Some(Self { uri, name: name.to_owned(), sub: sub.map(str::to_owned) })
    }

    /// Whether this path names `name[.sub]` of a core schema (case-insensitively).
    pub fn is(&self, name: &str, sub: Option<&str>) -> bool {
        let core = self.uri.as_deref().is_none_or(|u| CORE_SCHEMAS.iter().any(|c| c.eq_ignore_ascii_case(u)));
        let sub_ok = match (&self.sub, sub) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        core && self.name.eq_ignore_ascii_case(name) && sub_ok
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}
