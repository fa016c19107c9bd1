//! Reading typed configuration from environment variables, once, at cold start.
//!
//! Every function builds its config struct with these helpers so that a missing or malformed
//! variable stops the function at start-up with a message naming the variable.

use std::fmt;
use std::str::FromStr;

/// A configuration variable that is missing or cannot be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: String,
    pub problem: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration variable {}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Where variables are read from: the process environment in production, a map in tests.
pub trait Source {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env;

impl Source for Env {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<const N: usize> Source for [(&str, &str); N] {
    fn var(&self, name: &str) -> Option<String> {
        self.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }
}

impl Source for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A required variable, non-empty after trimming.
pub fn required(source: &impl Source, name: &str) -> Result<String, ConfigError> {
    optional(source, name)?.ok_or_else(|| ConfigError { variable: name.into(), problem: "is not set".into() })
}

/// An optional variable: unset and blank both mean `None`.
pub fn optional(source: &impl Source, name: &str) -> Result<Option<String>, ConfigError> {
    Ok(source.var(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()))
}

/// A required variable parsed with `FromStr`.
pub fn parsed<T>(source: &impl Source, name: &str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    let raw = required(source, name)?;
    raw.parse().map_err(|e: T::Err| ConfigError { variable: name.into(), problem: format!("{e}") })
}

/// An optional variable parsed with `FromStr`, or `default` when unset.
pub fn parsed_or<T>(source: &impl Source, name: &str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    match optional(source, name)? {
        None => Ok(default),
        Some(raw) => raw.parse().map_err(|e: T::Err| ConfigError { variable: name.into(), problem: format!("{e}") }),
    }
}

/// `PUBLIC_API_URL`, the API's public base URL (https, or http on loopback; no query), if set:
/// the bridge's OpenID Connect issuer is it without its final `/` ([`issuer`]).
pub fn public_api_url(source: &impl Source) -> Result<Option<url::Url>, ConfigError> {
    match optional(source, "PUBLIC_API_URL")? {
        None => Ok(None),
        Some(raw) => match url::Url::parse(&raw) {
            Ok(url) if crate::common::secure_url::secure(&url) && url.query().is_none() => Ok(Some(url)),
            _ => Err(ConfigError { variable: "PUBLIC_API_URL".into(), problem: "must be an https URL without a query".into() }),
        },
    }
}

/// Our issuer identifier for `api_url` ([`public_api_url`]): the URL without its final `/`;
/// empty when not configured.
pub fn issuer(api_url: Option<&url::Url>) -> String {
    api_url.map(|u| u.as_str().trim_end_matches('/').to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_missing_or_malformed_variable() {
        let env = [("A", " x "), ("B", ""), ("N", "nope")];
        assert_eq!(required(&env, "A").as_deref(), Ok("x"));
        assert_eq!(required(&env, "B").unwrap_err().to_string(), "configuration variable B: is not set");
        assert!(parsed::<u32>(&env, "N").unwrap_err().to_string().starts_with("configuration variable N: "));
        assert_eq!(parsed_or(&env, "MISSING", 5u32), Ok(5));
    }
}
