//! The filter's tokens and the lexer that splits a filter's text into them, each with its
//! character position. Building the `Filter` from them is `parse`.

use serde_json::Number;

use super::ast::CompValue;
use super::bounds::{FilterError, err};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    /// `.` between a value path's `]` and its sub-attribute.
    Dot,
    Word(String),
    Value(CompValue),
}

pub(super) struct Lexer<'a> {
    text: &'a str,
    tokens: Vec<(usize, Token)>,
}

impl<'a> Lexer<'a> {
    pub(super) fn run(text: &'a str) -> Result<Vec<(usize, Token)>, FilterError> {
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
