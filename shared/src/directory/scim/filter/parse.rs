//! The recursive-descent parser over the lexer's tokens: `or` > `and` > `not`/parentheses >
//! attribute expressions, within the nesting and comparison bounds. The entry point that runs
//! it is `Filter::parse` in `mod.rs`.

use super::ast::{AttrPath, CompValue, CompareOp, Filter};
use super::bounds::{FilterError, MAX_DEPTH, MAX_TERMS, err, too_many};
use super::lex::Token;

pub(super) struct Parser {
    pub(super) tokens: Vec<(usize, Token)>,
    pub(super) next: usize,
    pub(super) end: usize,
    pub(super) depth: usize,
    /// Comparisons so far.
    pub(super) terms: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    pub(super) fn position(&self) -> usize {
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

    pub(super) fn or(&mut self, inside_value_path: bool) -> Result<Filter, FilterError> {
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
