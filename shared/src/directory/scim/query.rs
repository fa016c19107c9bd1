//! List requests (RFC 7644 §3.4.2, §3.4.3): the query parameters of `GET /Users` and the body of
//! `POST /Users/.search`, checked once into a [`ListQuery`]; sorting; the `ListResponse`.

use serde_json::{Value, json};
use std::cmp::Ordering;

use super::error::{Invalid, ScimError};
use super::filter::{AttrPath, Filter};
use super::resource::Projection;
use super::schema::{DEFAULT_COUNT, LIST, MAX_RESULTS, ResourceType, SEARCH};

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based.
    pub start: usize,
    pub count: usize,
    pub sort_by: Option<AttrPath>,
    pub descending: bool,
    pub projection: Projection,
}

fn invalid(detail: String) -> ScimError {
    ScimError::invalid(Invalid::Value, detail)
}

fn number(name: &str, raw: &str) -> Result<i64, ScimError> {
    raw.trim().parse::<i64>().map_err(|_| invalid(format!("`{name}` must be an integer")))
}

impl ListQuery {
    /// From query parameters (names compared without case); `get` answers one parameter.
    pub fn from_params(rt: &ResourceType, get: impl Fn(&str) -> Option<String>) -> Result<Self, ScimError> {
        let start = get("startIndex").map(|v| number("startIndex", &v)).transpose()?;
        let count = get("count").map(|v| number("count", &v)).transpose()?;
        Self::build(rt, get("filter"), start, count, get("sortBy"), get("sortOrder"), get("attributes"), get("excludedAttributes"))
    }

    /// From a `SearchRequest` body.
    pub fn from_search(rt: &ResourceType, body: &Value) -> Result<Self, ScimError> {
        let object = body.as_object().ok_or_else(|| ScimError::invalid(Invalid::Syntax, "the body must be a SearchRequest object"))?;
        let schemas_ok = object.get("schemas").and_then(Value::as_array).is_some_and(|s| s.iter().any(|v| v.as_str() == Some(SEARCH)));
        if !schemas_ok {
            return Err(ScimError::invalid(Invalid::Syntax, format!("a search's `schemas` must be [\"{SEARCH}\"]")));
        }
        let text = |name: &str| -> Result<Option<String>, ScimError> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                    Ok(Some(items.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(",")))
                }
                Some(_) => Err(invalid(format!("`{name}` must be a string"))),
            }
        };
        let int = |name: &str| -> Result<Option<i64>, ScimError> {
            match object.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| invalid(format!("`{name}` must be an integer"))),
                Some(Value::String(s)) => number(name, s).map(Some),
                Some(_) => Err(invalid(format!("`{name}` must be an integer"))),
            }
        };
        Self::build(
            rt,
            text("filter")?,
            int("startIndex")?,
            int("count")?,
            text("sortBy")?,
            text("sortOrder")?,
            text("attributes")?,
            text("excludedAttributes")?,
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn build(
        rt: &ResourceType,
        filter: Option<String>,
        start: Option<i64>,
        count: Option<i64>,
        sort_by: Option<String>,
        sort_order: Option<String>,
        attributes: Option<String>,
        excluded: Option<String>,
    ) -> Result<Self, ScimError> {
        let filter = match filter.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(text) => Some(Filter::parse(text).map_err(|e| ScimError::invalid(e.rule(), e.to_string()))?),
        };
        let sort_by = match sort_by.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => Some(AttrPath::parse(name).ok_or_else(|| invalid(format!("`sortBy` {name} is not an attribute")))?),
        };
        let descending = match sort_order.as_deref().map(str::to_ascii_lowercase).as_deref() {
            None | Some("") | Some("ascending") => false,
            Some("descending") => true,
            Some(_) => return Err(invalid("`sortOrder` is ascending or descending".into())),
        };
        Ok(Self {
            filter,
            // RFC 7644 §3.4.2.4: below 1 means 1; a negative count means 0.
            start: start.unwrap_or(1).max(1) as usize,
            count: count.map_or(DEFAULT_COUNT, |c| c.clamp(0, MAX_RESULTS as i64) as usize),
            sort_by,
            descending,
            projection: Projection::parse(rt, attributes.as_deref(), excluded.as_deref()),
        })
    }
}

/// Sorts resources (as JSON) by `path`; resources without a value come last either way.
pub fn sort(resources: &mut [Value], path: &AttrPath, descending: bool) {
    let key = |r: &Value| -> Option<Value> {
        let f = Filter::Present(path.clone());
        if !f.matches(r) {
            return None;
        }
        let base = match &path.uri {
            Some(uri) => r.get(uri.as_str()).unwrap_or(r),
            None => r,
        };
        let found = base.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(&path.name)).map(|(_, v)| v)?;
        let found = match found {
            Value::Array(items) => items.iter().find(|i| i.get("primary") == Some(&Value::Bool(true))).or(items.first())?,
            v => v,
        };
        match &path.sub {
            Some(sub) => found.as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(sub)).map(|(_, v)| v.clone()),
            None if found.is_object() => found.get("value").cloned(),
            None => Some(found.clone()),
        }
    };
    let order = |a: &Value, b: &Value| match (a, b) {
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Number(x), Value::Number(y)) => x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Ordering::Equal),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => Ordering::Equal,
    };
    resources.sort_by(|a, b| match (key(a), key(b)) {
        (Some(x), Some(y)) => {
            let o = order(&x, &y);
            if descending { o.reverse() } else { o }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    });
}

pub fn list_response(resources: Vec<Value>, total: usize, start: usize) -> Value {
    json!({"schemas": [LIST], "totalResults": total, "itemsPerPage": resources.len(), "startIndex": start, "Resources": resources})
}

#[cfg(test)]
mod tests {
    use super::super::schema::USERS;
    use super::*;

    #[test]
    fn parameters_are_checked_and_clamped() {
        let q = |pairs: &[(&str, &str)]| ListQuery::from_params(&USERS, |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()));
        let d = q(&[]).unwrap();
        assert_eq!((d.start, d.count, d.filter.is_none()), (1, DEFAULT_COUNT, true));
        let c = q(&[("startIndex", "0"), ("count", "-5")]).unwrap();
        assert_eq!((c.start, c.count), (1, 0));
        assert_eq!(q(&[("count", "99999")]).unwrap().count, MAX_RESULTS);
        assert_eq!(q(&[("count", "ten")]).unwrap_err().rule(), Some(Invalid::Value));
        assert_eq!(q(&[("filter", "userName eq")]).unwrap_err().rule(), Some(Invalid::Filter));
        let long = (0..51).map(|i| format!("userName eq \"u{i}\"")).collect::<Vec<_>>().join(" or ");
        assert_eq!(q(&[("filter", long.as_str())]).unwrap_err().rule(), Some(Invalid::TooMany), "past a bound is tooMany, not invalidFilter");
        assert_eq!(q(&[("sortOrder", "sideways")]).unwrap_err().rule(), Some(Invalid::Value));
        let s = ListQuery::from_search(
            &USERS,
            &json!({"schemas": [SEARCH], "filter": "userName eq \"a\"", "startIndex": 2, "count": 5, "attributes": ["userName"]}),
        )
        .unwrap();
        assert_eq!((s.start, s.count, s.projection.wants("userName"), s.projection.wants("emails")), (2, 5, true, false));
        assert!(ListQuery::from_search(&USERS, &json!({"filter": "x"})).is_err());
    }

    #[test]
    fn sorting_puts_missing_values_last() {
        let mut r = vec![json!({"id": "1", "name": {"familyName": "b"}}), json!({"id": "2"}), json!({"id": "3", "name": {"familyName": "A"}})];
        let path = AttrPath::parse("name.familyName").unwrap();
        sort(&mut r, &path, false);
        assert_eq!(r.iter().map(|v| v["id"].as_str().unwrap()).collect::<Vec<_>>(), ["3", "1", "2"]);
        sort(&mut r, &path, true);
        assert_eq!(r.iter().map(|v| v["id"].as_str().unwrap()).collect::<Vec<_>>(), ["1", "3", "2"]);
    }
}
