//! The condition language of workflows: a small expression over the event's JSON.
//!
//! ```text
//! context.country != "JP" and user.email ends_with "@example.com"
//! type in ["user.registered", "user.provisioned"] or not (detail.attempts < 3)
//! ```
//!
//! - values: paths (`user.email`, `detail.signals`), strings (`"..."` with `\"` and `\\`),
//!   numbers, `true`, `false`, `null`, lists (`[1, "a"]`);
//! - comparisons: `==`, `!=`, `<`, `<=`, `>`, `>=` (numbers with numbers, strings with strings),
//!   `in` (in a list, or a substring of a string), `contains` (a list element, or a substring),
//!   `starts_with` and `ends_with` (strings, whatever their case, as domains are; an email's
//!   domain is `ends_with "@example.com"`, never `contains`, which
//!   `eve@example.com.attacker.example` passes);
//! - `and`, `or`, `not`, parentheses. A path that is not there is `null`. A bare value is true
//!   unless it is `null`, `false`, `0`, `""` or `[]`.
//!
//! Expressions are parsed once, when a flow is imported ([`Condition::parse`]), so a flow with a
//! malformed condition is refused with the position of the mistake, never at run time.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A parsed condition, kept with its source text.
#[derive(Clone, PartialEq)]
pub struct Condition {
    source: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq)]
enum Expr {
    Path(Vec<String>),
    Literal(Value),
    List(Vec<Expr>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Op, Box<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Contains,
    StartsWith,
    EndsWith,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("condition: {message} at character {at}")]
pub struct ParseError {
    pub message: &'static str,
    pub at: usize,
}

/// Longer conditions are refused (they are written by people, not generated).
const MAX_LEN: usize = 4096;
const MAX_DEPTH: usize = 32;

impl Condition {
    pub fn parse(source: &str) -> Result<Self, ParseError> {
        if source.len() > MAX_LEN {
            return Err(ParseError { message: "is longer than 4096 characters", at: MAX_LEN });
        }
        let tokens = lex(source)?;
        let mut parser = Parser { tokens, pos: 0, depth: 0, end: source.len() };
        let expr = parser.or()?;
        if let Some((_, at)) = parser.tokens.get(parser.pos) {
            return Err(ParseError { message: "unexpected text after the end", at: *at });
        }
        Ok(Self { source: source.to_owned(), expr })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `event` (the event's JSON) satisfies the condition.
    pub fn matches(&self, event: &Value) -> bool {
        truthy(&eval(&self.expr, event))
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Condition({:?})", self.source)
    }
}

impl Serialize for Condition {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        Self::parse(&source).map_err(serde::de::Error::custom)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    Str(String),
    Num(f64),
    Sym(&'static str),
}

fn lex(source: &str) -> Result<Vec<(Token, usize)>, ParseError> {
    let chars: Vec<(usize, char)> = source.char_indices().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let (at, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let next = chars.get(i + 1).map(|(_, c)| *c);
        let two = |s: &'static str| (Token::Sym(s), 2);
        let (token, width) = match (c, next) {
            ('=', Some('=')) => two("=="),
            ('!', Some('=')) => two("!="),
            ('<', Some('=')) => two("<="),
            ('>', Some('=')) => two(">="),
            ('<', _) => (Token::Sym("<"), 1),
            ('>', _) => (Token::Sym(">"), 1),
            ('(', _) => (Token::Sym("("), 1),
            (')', _) => (Token::Sym(")"), 1),
            ('[', _) => (Token::Sym("["), 1),
            (']', _) => (Token::Sym("]"), 1),
            (',', _) => (Token::Sym(","), 1),
            ('"', _) => {
                let mut text = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j).map(|(_, c)| *c) {
                        None => return Err(ParseError { message: "a string is not closed", at }),
                        Some('"') => break,
                        Some('\\') => {
                            match chars.get(j + 1).map(|(_, c)| *c) {
                                Some(e @ ('"' | '\\')) => text.push(e),
                                _ => return Err(ParseError { message: "only \\\" and \\\\ are escapes", at: chars[j].0 }),
                            }
                            j += 2;
                            continue;
                        }
                        Some(other) => text.push(other),
                    }
                    j += 1;
                }
                out.push((Token::Str(text), at));
                i = j + 1;
                continue;
            }
            (c, _) if c.is_ascii_digit() || (c == '-' && next.is_some_and(|n| n.is_ascii_digit())) => {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|(_, c)| c.is_ascii_digit() || *c == '.') {
                    j += 1;
                }
                let end = chars.get(j).map_or(source.len(), |(p, _)| *p);
                let n = source[at..end].parse().map_err(|_| ParseError { message: "not a number", at })?;
                (Token::Num(n), j - i)
            }
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while chars.get(j).is_some_and(|(_, c)| c.is_ascii_alphanumeric() || *c == '_' || *c == '.' || *c == ':') {
                    j += 1;
                }
                let end = chars.get(j).map_or(source.len(), |(p, _)| *p);
                (Token::Ident(source[at..end].to_owned()), j - i)
            }
            _ => return Err(ParseError { message: "unexpected character", at }),
        };
        out.push((token, at));
        i += width;
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    pos: usize,
    depth: usize,
    /// Where the text ends (for "missing" errors at the end).
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(t, _)| t)
    }

    fn at(&self) -> usize {
        self.tokens.get(self.pos).map_or(self.end, |(_, at)| *at)
    }

    fn keyword(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Token::Ident(w)) if w == word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn symbol(&mut self, sym: &str) -> bool {
        if matches!(self.peek(), Some(Token::Sym(s)) if *s == sym) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Result<T, ParseError>) -> Result<T, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError { message: "nests too deeply", at: self.at() });
        }
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.and()?;
        while self.keyword("or") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.not()?;
        while self.keyword("and") {
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.keyword("not") {
            return self.nested(|p| Ok(Expr::Not(Box::new(p.not()?))));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.operand()?;
        let op = match self.peek() {
            Some(Token::Sym("==")) => Op::Eq,
            Some(Token::Sym("!=")) => Op::Ne,
            Some(Token::Sym("<")) => Op::Lt,
            Some(Token::Sym("<=")) => Op::Le,
            Some(Token::Sym(">")) => Op::Gt,
            Some(Token::Sym(">=")) => Op::Ge,
            Some(Token::Ident(w)) if w == "in" => Op::In,
            Some(Token::Ident(w)) if w == "contains" => Op::Contains,
            Some(Token::Ident(w)) if w == "starts_with" => Op::StartsWith,
            Some(Token::Ident(w)) if w == "ends_with" => Op::EndsWith,
            _ => return Ok(left),
        };
        self.pos += 1;
        Ok(Expr::Compare(Box::new(left), op, Box::new(self.operand()?)))
    }

    fn operand(&mut self) -> Result<Expr, ParseError> {
        let at = self.at();
        let Some(token) = self.peek().cloned() else { return Err(ParseError { message: "a value is missing", at }) };
        self.pos += 1;
        match token {
            Token::Str(s) => Ok(Expr::Literal(Value::String(s))),
            Token::Num(n) => Ok(Expr::Literal(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))),
            Token::Ident(w) => Ok(match w.as_str() {
                "true" => Expr::Literal(Value::Bool(true)),
                "false" => Expr::Literal(Value::Bool(false)),
                "null" => Expr::Literal(Value::Null),
                "and" | "or" | "not" | "in" | "contains" | "starts_with" | "ends_with" => return Err(ParseError { message: "a value is missing", at }),
                path => Expr::Path(path.split('.').map(str::to_owned).collect()),
            }),
            Token::Sym("(") => self.nested(|p| {
                let inner = p.or()?;
                if p.symbol(")") { Ok(inner) } else { Err(ParseError { message: "a ')' is missing", at: p.at() }) }
            }),
            Token::Sym("[") => {
                let mut items = Vec::new();
                if self.symbol("]") {
                    return Ok(Expr::List(items));
                }
                loop {
                    items.push(self.nested(Self::operand)?);
                    if self.symbol("]") {
                        return Ok(Expr::List(items));
                    }
                    if !self.symbol(",") {
                        return Err(ParseError { message: "a ',' or ']' is missing", at: self.at() });
                    }
                }
            }
            Token::Sym(_) => Err(ParseError { message: "a value is missing", at }),
        }
    }
}

fn eval(expr: &Expr, event: &Value) -> Value {
    match expr {
        Expr::Path(parts) => parts.iter().try_fold(event, |v, part| v.get(part)).cloned().unwrap_or(Value::Null),
        Expr::Literal(v) => v.clone(),
        Expr::List(items) => Value::Array(items.iter().map(|i| eval(i, event)).collect()),
        Expr::Not(inner) => Value::Bool(!truthy(&eval(inner, event))),
        Expr::And(a, b) => Value::Bool(truthy(&eval(a, event)) && truthy(&eval(b, event))),
        Expr::Or(a, b) => Value::Bool(truthy(&eval(a, event)) || truthy(&eval(b, event))),
        Expr::Compare(a, op, b) => Value::Bool(compare(&eval(a, event), *op, &eval(b, event))),
    }
}

fn compare(a: &Value, op: Op, b: &Value) -> bool {
    use std::cmp::Ordering;
    let order = || match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64().zip(y.as_f64()).and_then(|(x, y)| x.partial_cmp(&y)),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    };
    let equal = || order().map_or(a == b, |o| o == Ordering::Equal);
    let within = |haystack: &Value, needle: &Value| match (haystack, needle) {
        (Value::Array(items), needle) => items.iter().any(|i| compare(i, Op::Eq, needle)),
        (Value::String(s), Value::String(n)) => s.contains(n.as_str()),
        _ => false,
    };
    match op {
        Op::Eq => equal(),
        Op::Ne => !equal(),
        Op::Lt => order() == Some(Ordering::Less),
        Op::Le => matches!(order(), Some(Ordering::Less | Ordering::Equal)),
        Op::Gt => order() == Some(Ordering::Greater),
        Op::Ge => matches!(order(), Some(Ordering::Greater | Ordering::Equal)),
        Op::In => within(b, a),
        Op::Contains => within(a, b),
        Op::StartsWith => matches!((a, b), (Value::String(s), Value::String(p)) if s.to_lowercase().starts_with(&p.to_lowercase())),
        Op::EndsWith => matches!((a, b), (Value::String(s), Value::String(p)) if s.to_lowercase().ends_with(&p.to_lowercase())),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"type": "sign_in.high_risk", "user": {"email": "hanako@example.com", "org": null},
               "context": {"country": "FR", "app": "support"}, "detail": {"attempts": 4, "signals": ["new_device", "new_country"]}})
    }

    fn check(source: &str) -> bool {
        Condition::parse(source).unwrap_or_else(|e| panic!("{source}: {e}")).matches(&event())
    }

    #[test]
    fn comparisons_membership_and_logic() {
        for (source, want) in [
            (r#"type == "sign_in.high_risk""#, true),
            (r#"context.country != "JP" and user.email contains "@example.com""#, true),
            (r#"user.email ends_with "@example.com" and user.email starts_with "hanako@""#, true),
            (r#"user.email ends_with "@example.co" or user.email starts_with "@""#, false),
            (r#"detail.signals ends_with "country" or detail.attempts ends_with "4""#, false),
            (r#"context.country in ["JP", "US"]"#, false),
            (r#"detail.signals contains "new_device""#, true),
            (r#""new" in detail.signals"#, false),
            (r#""example" in user.email"#, true),
            ("detail.attempts >= 4 and detail.attempts < 5", true),
            ("detail.attempts > 4.5", false),
            ("not (detail.attempts <= 3) or false", true),
            ("user.org == null and user.missing == null", true),
            ("user.org", false),
            ("detail.signals", true),
            (r#"detail.attempts == "4""#, false),
            (r#"context.app < "tickets""#, true),
            ("true and not false and not not true", true),
            (r#"user.email == "a\"b\\c" or -1 < 0"#, true),
        ] {
            assert_eq!(check(source), want, "{source}");
        }
    }

    /// A domain condition written with `ends_with` is not passed by an address that only
    /// contains the domain.
    #[test]
    fn an_address_that_only_contains_the_domain_does_not_end_with_it() {
        let condition = Condition::parse(r#"user.email ends_with "@example.com""#).unwrap_or_else(|e| panic!("{e}"));
        for (email, want) in [
            ("hanako@example.com", true),
            ("Hanako@Example.COM", true),
            ("eve@example.com.attacker.example", false),
            ("eve@attacker.example?@example.co", false),
        ] {
            assert_eq!(condition.matches(&json!({"user": {"email": email}})), want, "{email}");
        }
    }

    #[test]
    fn mistakes_are_refused_with_where_they_are() {
        for (source, at) in
            [("user.email ==", 13), (r#"user.email == "open"#, 14), ("(a == 1", 7), ("a == 1 b", 7), ("a = 1", 2), ("[1, 2", 5), ("and", 0), ("", 0)]
        {
            let e = Condition::parse(source).err().unwrap_or_else(|| panic!("{source} parsed"));
            assert_eq!(e.at, at, "{source}: {e}");
        }
        assert!(Condition::parse(&"(".repeat(100)).is_err(), "deep nesting is refused, not a stack overflow");
        assert!(Condition::parse(&"not ".repeat(100)).is_err());
        assert!(serde_json::from_value::<Condition>(json!("a ==")).is_err());
        let c: Condition = serde_json::from_value(json!("a == 1")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::to_value(&c).ok(), Some(json!("a == 1")));
    }
}
