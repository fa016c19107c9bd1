//! Applying one operation to a resource's attributes (or an extension's): whole attributes,
//! sub-attributes and the elements a value-path filter selects, with at most one `primary`.
//! Paths are resolved by `path`; operations on a group's `members` are handed to `members`.

use serde_json::{Map, Value};

use super::members::member_change;
use super::ops::{MemberChange, OpKind};
use super::path::{Target, resolve};
use crate::directory::scim::error::{Invalid, ScimError};
use crate::directory::scim::filter::{Budget, CompValue, CompareOp, Filter};
use crate::directory::scim::resource::{Attributes, MAX_VALUES, coerce, coerce_one, too_many};
use crate::directory::scim::schema::{Attr, Mutability, ResourceType};

/// What applying a request's operations gathers: the member changes, and the filter work left.
pub(super) struct Work {
    pub(super) members: Vec<MemberChange>,
    pub(super) budget: Budget,
}

/// `lenient`: the key came from a value object without a path, where read-only and unknown
/// attributes are skipped (as in POST/PUT) rather than refused.
pub(super) fn apply_path(
    rt: &ResourceType,
    data: &mut Attributes,
    kind: OpKind,
    raw: &str,
    value: Option<&Value>,
    lenient: bool,
    work: &mut Work,
) -> Result<(), ScimError> {
    if let Some((urn, _)) = rt.extension(raw) {
        if kind == OpKind::Remove {
            data.remove(urn);
            return Ok(());
        }
        let Some(Value::Object(fields)) = value else {
            return Err(ScimError::invalid(Invalid::Value, format!("`{urn}` must be an object")));
        };
        for (k, v) in fields {
            apply_path(rt, data, kind, &format!("{urn}:{k}"), Some(v), true, work)?;
        }
        return Ok(());
    }
    let target = match resolve(rt, raw) {
        Ok(t) => t,
        Err(_) if lenient => return Ok(()),
        Err(e) => return Err(e),
    };
    if target.urn.is_none() && target.attr.name == "members" && rt.attr("members").is_some() {
        work.members.push(member_change(kind, &target, value, raw)?);
        return Ok(());
    }
    let mutability = target.sub.map_or(target.attr.mutability, |s| s.mutability);
    match mutability {
        Mutability::ReadOnly if lenient => return Ok(()),
        Mutability::ReadOnly => return Err(ScimError::invalid(Invalid::Mutability, format!("`{raw}` is read-only"))),
        // Passwords are never stored: writes to them are dropped.
        Mutability::WriteOnly => return Ok(()),
        _ => {}
    }
    match target.urn {
        None => apply_target(data, &target, kind, value, raw, &mut work.budget),
        Some(urn) => {
            let mut ext = match data.remove(urn) {
                Some(Value::Object(ext)) => ext,
                _ => Map::new(),
            };
            let result = apply_target(&mut ext, &target, kind, value, raw, &mut work.budget);
            if !ext.is_empty() {
                data.insert(urn.to_owned(), Value::Object(ext));
            }
            result
        }
    }
}

fn apply_target(container: &mut Attributes, t: &Target, kind: OpKind, value: Option<&Value>, raw: &str, budget: &mut Budget) -> Result<(), ScimError> {
    let name = t.attr.name;
    match (&t.filter, t.sub) {
        (None, None) => whole(container, t.attr, kind, value, raw),
        (None, Some(sub)) if !t.attr.multi => {
            let mut object = match container.remove(name) {
                Some(Value::Object(o)) => o,
                _ => Map::new(),
            };
            set_sub(&mut object, sub, kind, value, raw)?;
            if !object.is_empty() {
                container.insert(name.to_owned(), Value::Object(object));
            }
            Ok(())
        }
        (None, Some(sub)) => {
            let mut items = take_list(container, name);
            for item in items.iter_mut() {
                if let Value::Object(o) = item {
                    set_sub(o, sub, kind, value, raw)?;
                }
            }
            put_list(container, name, items);
            Ok(())
        }
        (Some(filter), sub) => {
            let mut items = take_list(container, name);
            let mut matched = Vec::new();
            for (i, item) in items.iter().enumerate() {
                if filter.matches_within(item, budget)? {
                    matched.push(i);
                }
            }
            let result = filtered(&mut items, &matched, t.attr, sub, filter, kind, value, raw);
            put_list(container, name, items);
            result
        }
    }
}

fn whole(container: &mut Attributes, attr: &Attr, kind: OpKind, value: Option<&Value>, raw: &str) -> Result<(), ScimError> {
    let name = attr.name;
    if kind == OpKind::Remove {
        match (attr.multi, value) {
            // Remove the listed values only (Entra sends member-style removals for other lists too).
            (true, Some(v)) => {
                let gone: Vec<Value> = match coerce(attr, v, raw)? {
                    Some(Value::Array(items)) => items,
                    _ => Vec::new(),
                };
                let mut items = take_list(container, name);
                items.retain(|i| !gone.iter().any(|g| same_value(i, g)));
                put_list(container, name, items);
            }
            _ => {
                container.remove(name);
            }
        }
        return Ok(());
    }
    let coerced = coerce(attr, value.unwrap_or(&Value::Null), raw)?;
    match (coerced, attr.multi) {
        (None, _) => {
            if kind == OpKind::Replace {
                container.remove(name);
            }
        }
        (Some(Value::Array(new)), true) => {
            let mut items = if kind == OpKind::Add { take_list(container, name) } else { Vec::new() };
            let first_new = items.len();
            for v in new {
                if !items.contains(&v) {
                    items.push(v);
                }
            }
            if items.len() > MAX_VALUES {
                return Err(too_many(raw, MAX_VALUES));
            }
            settle_primary(&mut items, first_new);
            put_list(container, name, items);
        }
        (Some(Value::Object(fields)), false) => {
            // RFC 7644 §3.5.2.1/3: sub-attributes not given are left as they are.
            let object = container.entry(name.to_owned()).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(existing) = object {
                existing.extend(fields);
            } else {
                *object = Value::Object(fields);
            }
        }
        (Some(v), _) => {
            container.insert(name.to_owned(), v);
        }
    }
    Ok(())
}

fn set_sub(object: &mut Map<String, Value>, sub: &Attr, kind: OpKind, value: Option<&Value>, raw: &str) -> Result<(), ScimError> {
    if kind == OpKind::Remove {
        object.remove(sub.name);
        return Ok(());
    }
    match coerce_one(sub, value.unwrap_or(&Value::Null), raw)? {
        Some(v) => object.insert(sub.name.to_owned(), v),
        None => object.remove(sub.name),
    };
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn filtered(
    items: &mut Vec<Value>,
    matched: &[usize],
    attr: &Attr,
    sub: Option<&Attr>,
    filter: &Filter,
    kind: OpKind,
    value: Option<&Value>,
    raw: &str,
) -> Result<(), ScimError> {
    if kind == OpKind::Remove {
        match sub {
            None => {
                let mut index = 0;
                items.retain(|_| {
                    index += 1;
                    !matched.contains(&(index - 1))
                });
            }
            Some(sub) => {
                for &i in matched {
                    if let Some(Value::Object(o)) = items.get_mut(i) {
                        o.remove(sub.name);
                    }
                }
                items.retain(|i| i.as_object().is_none_or(|o| !o.is_empty()));
            }
        }
        return Ok(());
    }
    let value = value.unwrap_or(&Value::Null);
    if matched.is_empty() {
        // Entra replaces `emails[type eq "work"].value` on a user with no work email: create the
        // element the filter describes. Anything else has no target.
        let Some(mut element) = equality_terms(filter) else {
            return Err(ScimError::invalid(Invalid::NoTarget, format!("`{raw}` matches no value")));
        };
        match (sub, value) {
            (Some(sub), v) => {
                element.insert(sub.name.to_owned(), v.clone());
            }
            (None, Value::Object(fields)) => element.extend(fields.clone()),
            (None, _) => return Err(ScimError::invalid(Invalid::Value, format!("`{raw}` needs an object value"))),
        }
        if let Some(v) = coerce_one(attr, &Value::Object(element), raw)? {
            if items.len() >= MAX_VALUES {
                return Err(too_many(raw, MAX_VALUES));
            }
            items.push(v);
            let last = items.len() - 1;
            settle_primary(items, last);
        }
        return Ok(());
    }
    for &i in matched {
        let Some(Value::Object(element)) = items.get_mut(i) else { continue };
        match sub {
            Some(sub) => set_sub(element, sub, kind, Some(value), raw)?,
            None => match coerce_one(attr, value, raw)? {
                Some(Value::Object(fields)) => element.extend(fields),
                _ => return Err(ScimError::invalid(Invalid::Value, format!("`{raw}` needs an object value"))),
            },
        }
    }
    if let Some(&last) = matched.last() {
        settle_primary(items, last);
    }
    Ok(())
}

/// `a eq "x" and b eq true` as `{a: "x", b: true}`; `None` for any other filter.
fn equality_terms(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value } if path.uri.is_none() && path.sub.is_none() => {
            let v = match value {
                CompValue::String(s) => Value::from(s.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                _ => return None,
            };
            Some(Map::from_iter([(path.name.clone(), v)]))
        }
        Filter::And(a, b) => {
            let mut terms = equality_terms(a)?;
            terms.extend(equality_terms(b)?);
            Some(terms)
        }
        _ => None,
    }
}

/// At most one `primary: true`: the newest (from index `newest` on) wins.
fn settle_primary(items: &mut [Value], newest: usize) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    let Some(keep) = items.iter().rposition(is_primary) else { return };
    if items.iter().filter(|v| is_primary(v)).count() < 2 {
        return;
    }
    let keep = if keep >= newest { keep } else { items.iter().position(is_primary).unwrap_or(keep) };
    for (i, item) in items.iter_mut().enumerate() {
        if i != keep
            && let Value::Object(o) = item
            && o.get("primary") == Some(&Value::Bool(true))
        {
            o.insert("primary".into(), Value::Bool(false));
        }
    }
}

fn same_value(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn take_list(container: &mut Attributes, name: &str) -> Vec<Value> {
    match container.remove(name) {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    }
}

fn put_list(container: &mut Attributes, name: &str, items: Vec<Value>) {
    if !items.is_empty() {
        container.insert(name.to_owned(), Value::Array(items));
    }
}
