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

use serde_json::{Number, Value};
use std::cmp::Ordering;
use std::fmt;

use super::error::{ScimError, ScimType};

/// Longest filter accepted, and deepest nesting (keeps recursion bounded).
pub const MAX_LEN: usize = 4096;
pub const MAX_DEPTH: usize = 10;
/// Most comparisons (`eq`, `co`, `pr`, ...) in one filter.
pub const MAX_TERMS: usize = 50;
/// The filter work one request may do ([`Budget::default`]), in units of about one byte
/// compared: enough for the largest PATCH the other bounds allow with ordinary values
/// (100 operations x 100 values x 50 comparisons), not for long values compared with `co`.
pub const MAX_WORK: u64 = 50_000_000;

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

/// Where and why a filter could not be parsed (SCIM `invalidFilter`, or `tooMany` past a bound).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter at character {position}: {message}")]
pub struct FilterError {
    /// 1-based character position.
    pub position: usize,
    pub message: String,
    /// The filter passed one of the bounds ([`MAX_LEN`], [`MAX_TERMS`], [`MAX_DEPTH`]) rather
    /// than the grammar.
    pub too_many: bool,
}

impl FilterError {
    /// The `scimType` a client is told.
    pub fn scim_type(&self) -> ScimType {
        if self.too_many { ScimType::TooMany } else { ScimType::InvalidFilter }
    }
}

/// How much filter work one request may still do (units of about one byte compared).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Budget {
    left: u64,
    spent_out: bool,
}

impl Default for Budget {
    /// One request's share: [`MAX_WORK`].
    fn default() -> Self {
        Self::new(MAX_WORK)
    }
}

impl Budget {
    pub fn new(units: u64) -> Self {
        Self { left: units, spent_out: false }
    }

    /// Takes `units`; `false` (and nothing left from then on) if there were not that many.
    fn spend(&mut self, units: u64) -> bool {
        if self.spent_out || units > self.left {
            self.left = 0;
            self.spent_out = true;
            return false;
        }
        self.left -= units;
        true
    }
}

/// An evaluation stopped because it would have done more work than its [`Budget`] held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("evaluating the filters of this request would take more than the work one request may do")]
pub struct OverBudget;

impl From<OverBudget> for ScimError {
    fn from(_: OverBudget) -> Self {
        ScimError::bad(
            ScimType::TooMany,
            format!(
                "evaluating the filters of this request would take more than {MAX_WORK} units of work (about one byte compared each): use fewer, simpler filters or shorter values"
            ),
        )
    }
}

/// Schemas whose attributes sit at the top level of a resource.
const CORE_SCHEMAS: &[&str] = &["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:core:2.0:Group"];
/// Attributes compared case-sensitively (RFC 7643 `caseExact`); all others ignore case.
const CASE_EXACT: &[&str] = &["id", "externalId", "$ref"];

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

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    /// `.` between a value path's `]` and its sub-attribute.
    Dot,
    Word(String),
    Value(CompValue),
}

struct Lexer<'a> {
    text: &'a str,
    tokens: Vec<(usize, Token)>,
}

fn err(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into(), too_many: false }
}

/// An error for a filter past one of the bounds.
fn too_many(position: usize, message: impl Into<String>) -> FilterError {
    FilterError { position, message: message.into(), too_many: true }
}

impl<'a> Lexer<'a> {
    fn run(text: &'a str) -> Result<Vec<(usize, Token)>, FilterError> {
        let mut lexer = Lexer { text, tokens: Vec::new() };
        let mut chars = text.char_indices().peekable();
        while let Some(&(i, c)) = chars.peek() {
            let position = text[..i].chars().count() + 1;
            match c {
                ' ' | '\t' | '\n' | '\r' => {
                    chars.next();
                }
                '(' | ')' | '[' | ']' | '.' => {
                    chars.next();
                    let t = match c {
                        '(' => Token::Open,
                        ')' => Token::Close,
                        '[' => Token::OpenBracket,
                        ']' => Token::CloseBracket,
                        _ => Token::Dot,
                    };
                    lexer.tokens.push((position, t));
                }
                '"' => {
                    let end = lexer.string_end(i).ok_or_else(|| err(position, "unterminated string"))?;
                    let value: String = serde_json::from_str(&text[i..end]).map_err(|_| err(position, "invalid string (use JSON escapes)"))?;
                    lexer.tokens.push((position, Token::Value(CompValue::String(value))));
                    while chars.peek().is_some_and(|&(j, _)| j < end) {
                        chars.next();
                    }
                }
                c if c == '-' || c.is_ascii_digit() => {
                    let mut end = i;
                    while let Some(&(j, d)) = chars.peek() {
                        if d.is_ascii_alphanumeric() || matches!(d, '.' | '-' | '+') {
                            end = j + d.len_utf8();
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    let number: Number = serde_json::from_str(&text[i..end]).map_err(|_| err(position, format!("`{}` is not a number", &text[i..end])))?;
                    lexer.tokens.push((position, Token::Value(CompValue::Number(number))));
                }
                c if c.is_ascii_alphabetic() || c == '$' || c == '_' => {
                    let mut end = i;
                    while let Some(&(j, d)) = chars.peek() {
                        if d.is_ascii_alphanumeric() || matches!(d, ':' | '.' | '_' | '-' | '$') {
                            end = j + d.len_utf8();
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    lexer.tokens.push((position, Token::Word(text[i..end].to_owned())));
                }
                other => return Err(err(position, format!("unexpected `{other}`"))),
            }
        }
        Ok(lexer.tokens)
    }

    /// Byte index just past the closing quote of the string starting at `start`.
    fn string_end(&self, start: usize) -> Option<usize> {
        let mut escaped = false;
        for (j, c) in self.text[start + 1..].char_indices() {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => return Some(start + 1 + j + 1),
                _ => {}
            }
        }
        None
    }
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    next: usize,
    end: usize,
    depth: usize,
    /// Comparisons so far.
    terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn position(&self) -> usize {
        self.tokens.get(self.next).map_or(self.end, |(p, _)| *p)
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), FilterError> {
        if self.peek() == Some(&token) {
            self.next += 1;
            Ok(())
        } else {
            Err(err(self.position(), format!("expected {what}")))
        }
    }

    fn or(&mut self, inside_value_path: bool) -> Result<Filter, FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(too_many(self.position(), format!("the filter nests too deeply (at most {MAX_DEPTH} levels)")));
        }
        let mut left = self.and(inside_value_path)?;
        while self.keyword("or") {
            self.next += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and(inside_value_path)?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self, inside_value_path: bool) -> Result<Filter, FilterError> {
        let mut left = self.unary(inside_value_path)?;
        while self.keyword("and") {
            self.next += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary(inside_value_path)?));
        }
        Ok(left)
    }

    fn unary(&mut self, inside_value_path: bool) -> Result<Filter, FilterError> {
        if self.keyword("not") {
            self.next += 1;
            self.expect(Token::Open, "`(` after `not`")?;
            let inner = self.or(inside_value_path)?;
            self.expect(Token::Close, "`)`")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.next += 1;
            let inner = self.or(inside_value_path)?;
            self.expect(Token::Close, "`)`")?;
            return Ok(inner);
        }
        self.attribute_expression(inside_value_path)
    }

    fn attribute_expression(&mut self, inside_value_path: bool) -> Result<Filter, FilterError> {
        let position = self.position();
        let Some(Token::Word(word)) = self.peek().cloned() else {
            return Err(err(position, "expected an attribute name"));
        };
        let path = AttrPath::parse(&word).ok_or_else(|| err(position, format!("`{word}` is not an attribute path")))?;
        self.next += 1;
        if self.peek() == Some(&Token::OpenBracket) {
            if inside_value_path {
                return Err(err(self.position(), "value paths cannot nest"));
            }
            if path.sub.is_some() {
                return Err(err(position, "a value path filters a multi-valued attribute, not a sub-attribute"));
            }
            self.next += 1;
            let inner = self.or(true)?;
            self.expect(Token::CloseBracket, "`]`")?;
            if self.peek() != Some(&Token::Dot) {
                return Ok(Filter::ValuePath { path, filter: Box::new(inner) });
            }
            // `emails[type eq "work"].value eq "x"`: some element matches the brackets and its
            // sub-attribute compares true, which is the value path `emails[type eq "work" and
            // value eq "x"]`.
            self.next += 1;
            let sub_position = self.position();
            let sub = match self.peek() {
                Some(Token::Word(w)) => AttrPath::parse(w).filter(|p| p.uri.is_none() && p.sub.is_none()),
                _ => None,
            }
            .ok_or_else(|| err(sub_position, "expected a sub-attribute name after `].`"))?;
            self.next += 1;
            let compared = self.comparison(sub)?;
            return Ok(Filter::ValuePath { path, filter: Box::new(Filter::And(Box::new(inner), Box::new(compared))) });
        }
        self.comparison(path)
    }

    /// The operator and value after `path`.
    fn comparison(&mut self, path: AttrPath) -> Result<Filter, FilterError> {
        let op_position = self.position();
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(too_many(op_position, format!("a filter holds at most {MAX_TERMS} comparisons")));
        }
        let Some(Token::Word(op)) = self.peek().cloned() else {
            return Err(err(op_position, "expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"));
        };
        self.next += 1;
        let op = match op.to_ascii_lowercase().as_str() {
            "pr" => return Ok(Filter::Present(path)),
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return Err(err(op_position, format!("`{op}` is not an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr)"))),
        };
        let value_position = self.position();
        let value = match self.peek().cloned() {
            Some(Token::Value(v)) => v,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("true") => CompValue::Bool(true),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("false") => CompValue::Bool(false),
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("null") => CompValue::Null,
            _ => return Err(err(value_position, "expected a value: a \"string\", a number, true, false or null")),
        };
        self.next += 1;
        let ordering_ok =
            !matches!(op, CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le) || matches!(value, CompValue::String(_) | CompValue::Number(_));
        let substring_ok = !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) || matches!(value, CompValue::String(_));
        if !ordering_ok || !substring_ok {
            return Err(err(value_position, "this operator needs a string (or, for gt/ge/lt/le, a number)"));
        }
        Ok(Filter::Compare { path, op, value })
    }
}

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

    fn eval(&self, resource: &Value, budget: &mut Budget) -> bool {
        if !budget.spend(1) {
            return false;
        }
        match self {
            Filter::And(a, b) => a.eval(resource, budget) && b.eval(resource, budget),
            Filter::Or(a, b) => a.eval(resource, budget) || b.eval(resource, budget),
            Filter::Not(inner) => !inner.eval(resource, budget),
            Filter::Present(path) => values(resource, path).any(present),
            Filter::Compare { path, op, value } => {
                let case_exact = CASE_EXACT.contains(&path.sub.as_deref().unwrap_or(&path.name));
                match (op, value) {
                    (CompareOp::Eq, CompValue::Null) => !values(resource, path).any(present),
                    (CompareOp::Ne, CompValue::Null) => values(resource, path).any(present),
                    (CompareOp::Ne, _) => !values(resource, path).any(|v| compare(v, CompareOp::Eq, value, case_exact, budget)),
                    _ => values(resource, path).any(|v| compare(v, *op, value, case_exact, budget)),
                }
            }
            Filter::ValuePath { path, filter } => elements(resource, path).any(|element| filter.eval(element, budget)),
        }
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

fn present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        _ => true,
    }
}

fn get_ci<'v>(object: &'v Value, key: &str) -> Option<&'v Value> {
    object.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v)
}

/// The elements of the attribute `path` names (ignoring its sub-attribute) in `resource`: the
/// items of a multi-valued attribute, or the single value.
fn elements<'v>(resource: &'v Value, path: &AttrPath) -> impl Iterator<Item = &'v Value> {
    let base = match &path.uri {
        Some(uri) if !CORE_SCHEMAS.iter().any(|c| c.eq_ignore_ascii_case(uri)) => get_ci(resource, uri),
        _ => Some(resource),
    };
    let found = base.and_then(|b| get_ci(b, &path.name));
    let items: &'v [Value] = match found {
        Some(Value::Array(items)) => items.as_slice(),
        _ => &[],
    };
    items.iter().chain(found.filter(|v| !v.is_array()))
}

/// The values `path` compares against; a complex multi-valued attribute named without a
/// sub-attribute stands for its elements' `value`.
fn values<'v>(resource: &'v Value, path: &AttrPath) -> impl Iterator<Item = &'v Value> {
    elements(resource, path).filter_map(move |i| match &path.sub {
        Some(sub) => get_ci(i, sub),
        None if i.is_object() => Some(get_ci(i, "value").unwrap_or(i)),
        None => Some(i),
    })
}

fn compare(found: &Value, op: CompareOp, wanted: &CompValue, case_exact: bool, budget: &mut Budget) -> bool {
    match (found, wanted) {
        (Value::String(f), CompValue::String(w)) => budget.spend(text_cost(f, op, w)) && compare_text(f, op, w, case_exact),
        (Value::Number(f), CompValue::Number(w)) => match (f.as_f64(), w.as_f64()) {
            (Some(f), Some(w)) => f.partial_cmp(&w).is_some_and(|o| ordered(o, op)),
            _ => false,
        },
        (Value::Bool(f), CompValue::Bool(w)) => match op {
            CompareOp::Eq => f == w,
            CompareOp::Ne => f != w,
            _ => false,
        },
        _ => false,
    }
}

/// The most work [`compare_text`] does on these strings: `co` tries the needle at each place.
fn text_cost(found: &str, op: CompareOp, wanted: &str) -> u64 {
    let (n, m) = (found.len() as u64, wanted.len() as u64);
    match op {
        CompareOp::Co if m > 0 && m <= n => 1 + (n - m + 1).saturating_mul(m),
        _ => 1 + n + m,
    }
}

/// `s` lower-cased one character at a time.
fn lower(s: &str) -> impl Iterator<Item = char> {
    s.chars().flat_map(char::to_lowercase)
}

fn starts_with(mut text: impl Iterator<Item = char>, mut prefix: impl Iterator<Item = char>) -> bool {
    prefix.all(|c| text.next() == Some(c))
}

/// Compares two strings, ignoring case unless `case_exact`, without allocating: bytes when
/// both are ASCII (nearly always), lower-cased characters otherwise.
fn compare_text(found: &str, op: CompareOp, wanted: &str, case_exact: bool) -> bool {
    if case_exact {
        return match op {
            CompareOp::Eq => found == wanted,
            CompareOp::Ne => found != wanted,
            CompareOp::Co => found.contains(wanted),
            CompareOp::Sw => found.starts_with(wanted),
            CompareOp::Ew => found.ends_with(wanted),
            _ => ordered(found.cmp(wanted), op),
        };
    }
    if found.is_ascii() && wanted.is_ascii() {
        let (f, w) = (found.as_bytes(), wanted.as_bytes());
        return match op {
            CompareOp::Eq => f.eq_ignore_ascii_case(w),
            CompareOp::Ne => !f.eq_ignore_ascii_case(w),
            CompareOp::Co => w.is_empty() || f.windows(w.len()).any(|window| window.eq_ignore_ascii_case(w)),
            CompareOp::Sw => f.len() >= w.len() && f[..w.len()].eq_ignore_ascii_case(w),
            CompareOp::Ew => f.len() >= w.len() && f[f.len() - w.len()..].eq_ignore_ascii_case(w),
            _ => ordered(f.iter().map(u8::to_ascii_lowercase).cmp(w.iter().map(u8::to_ascii_lowercase)), op),
        };
    }
    match op {
        CompareOp::Eq => lower(found).eq(lower(wanted)),
        CompareOp::Ne => !lower(found).eq(lower(wanted)),
        CompareOp::Co => wanted.is_empty() || found.char_indices().any(|(i, _)| starts_with(lower(&found[i..]), lower(wanted))),
        CompareOp::Sw => starts_with(lower(found), lower(wanted)),
        CompareOp::Ew => {
            let (n, m) = (lower(found).count(), lower(wanted).count());
            n >= m && lower(found).skip(n - m).eq(lower(wanted))
        }
        _ => ordered(lower(found).cmp(lower(wanted)), op),
    }
}

fn ordered(ordering: Ordering, op: CompareOp) -> bool {
    match op {
        CompareOp::Eq => ordering == Ordering::Equal,
        CompareOp::Ne => ordering != Ordering::Equal,
        CompareOp::Gt => ordering == Ordering::Greater,
        CompareOp::Ge => ordering != Ordering::Less,
        CompareOp::Lt => ordering == Ordering::Less,
        CompareOp::Le => ordering != Ordering::Greater,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        assert_eq!(over.scim_type(), ScimType::TooMany);
        let in_brackets = Filter::parse(&format!("emails[{}]", terms(MAX_TERMS + 1).replace("userName", "value"))).unwrap_err();
        assert_eq!(in_brackets.scim_type(), ScimType::TooMany);
        let nested = |depth: usize| format!("{}title pr{}", "(".repeat(depth), ")".repeat(depth));
        assert!(Filter::parse(&nested(MAX_DEPTH - 1)).is_ok());
        assert_eq!(Filter::parse(&nested(MAX_DEPTH)).unwrap_err().scim_type(), ScimType::TooMany);
        assert_eq!(Filter::parse(&"x".repeat(MAX_LEN + 1)).unwrap_err().scim_type(), ScimType::TooMany);
        assert_eq!(Filter::parse("userName eq").unwrap_err().scim_type(), ScimType::InvalidFilter);
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
        assert_eq!(ScimError::from(OverBudget).scim_type, Some(ScimType::TooMany));
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
