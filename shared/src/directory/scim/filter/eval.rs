//! Evaluating a [`Filter`] over a resource's JSON, without allocating and counted against a
//! [`Budget`]: attribute lookup (case-insensitive), presence and the comparisons. No parsing.

use serde_json::Value;
use std::cmp::Ordering;

use super::ast::{AttrPath, CORE_SCHEMAS, CompValue, CompareOp, Filter};
use super::bounds::Budget;

/// Attributes compared case-sensitively (RFC 7643 `caseExact`); all others ignore case.
const CASE_EXACT: &[&str] = &["id", "externalId", "$ref"];

impl Filter {
    pub(super) fn eval(&self, resource: &Value, budget: &mut Budget) -> bool {
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
