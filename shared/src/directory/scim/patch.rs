//! PATCH (RFC 7644 §3.5.2): `add`, `remove` and `replace`, with or without a `path`, including
//! value-path filters (`emails[type eq "work"].value`) and the quirks real clients send: Entra's
//! capitalised op names, `"True"`/`"False"` strings, dotted keys in a value object, member
//! removal by a value list; Okta's `members[value eq "..."]`.
//!
//! Operations apply to a resource's canonical attributes. A group's `members` are kept apart
//! (one stored item each), so operations on them come back as [`MemberChange`]s for the store
//! instead of being applied to the attributes. A member's `type` is kept, as `User` or `Group`.
//!
//! One request's work is bounded, past which the answer is `tooMany`: [`MAX_OPERATIONS`]
//! operations, the filter bounds of [`super::filter`] in each value path, [`MAX_VALUES`] values in
//! a multi-valued attribute, [`MAX_MEMBERS_PER_OPERATION`] members per operation and
//! [`MAX_MEMBERS`] per request, and all its value-path filters evaluated within one
//! [`Budget`].

use serde_json::{Map, Value};

use super::error::{ScimError, ScimType};
use super::filter::{AttrPath, Budget, CompValue, CompareOp, Filter};
use super::resource::{Attributes, MAX_MEMBERS, MAX_VALUES, coerce, coerce_one, too_many};
use super::schema::{self, Attr, Mutability, PATCH_OP, ResourceType};

/// Most operations in one request (Okta and Entra send a handful).
pub const MAX_OPERATIONS: usize = 100;
/// Most members one operation adds, removes or replaces.
pub const MAX_MEMBERS_PER_OPERATION: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Add,
    Remove,
    Replace,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    pub kind: OpKind,
    pub path: Option<String>,
    pub value: Option<Value>,
}

impl MemberChange {
    /// Whether the change adds or keeps `id` as a member.
    pub fn names(&self, id: &str) -> bool {
        match self {
            Self::Add(members) | Self::Replace(members) => members.iter().any(|m| m.get("value").and_then(Value::as_str) == Some(id)),
            Self::Remove(_) | Self::RemoveAll => false,
        }
    }
}

/// A change to a group's members, in the order the operations asked for it.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    /// Member objects (`value`, optional `display`, `type`), already checked.
    Add(Vec<Value>),
    Remove(Vec<String>),
    RemoveAll,
    Replace(Vec<Value>),
}

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::bad(ScimType::InvalidSyntax, detail)
}

fn bad_path(path: &str, why: &str) -> ScimError {
    ScimError::bad(ScimType::InvalidPath, format!("path `{path}`: {why}"))
}

/// The operations of a `PatchOp` body.
pub fn parse(body: &Value) -> Result<Vec<Operation>, ScimError> {
    let schemas_ok =
        body.get("schemas").and_then(Value::as_array).is_some_and(|s| s.iter().any(|v| v.as_str().is_some_and(|v| v.eq_ignore_ascii_case(PATCH_OP))));
    if !schemas_ok {
        return Err(syntax(format!("a PATCH body's `schemas` must be [\"{PATCH_OP}\"]")));
    }
    let ops = body.get("Operations").or_else(|| body.get("operations")).and_then(Value::as_array).ok_or_else(|| syntax("`Operations` must be a list"))?;
    if ops.is_empty() {
        return Err(syntax(format!("`Operations` holds 1 to {MAX_OPERATIONS} operations")));
    }
    if ops.len() > MAX_OPERATIONS {
        return Err(ScimError::bad(ScimType::TooMany, format!("a PATCH request holds at most {MAX_OPERATIONS} operations")));
    }
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let field = |name: &str| op.as_object().and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v));
            let kind = match field("op").and_then(Value::as_str).map(str::to_ascii_lowercase).as_deref() {
                Some("add") => OpKind::Add,
                Some("remove") => OpKind::Remove,
                Some("replace") => OpKind::Replace,
                _ => return Err(syntax(format!("operation {}: `op` must be add, remove or replace", i + 1))),
            };
            let path = match field("path") {
                None | Some(Value::Null) => None,
                Some(Value::String(p)) if p.trim().is_empty() => None,
                Some(Value::String(p)) => Some(p.trim().to_owned()),
                Some(_) => return Err(syntax(format!("operation {}: `path` must be a string", i + 1))),
            };
            let value = field("value").filter(|v| !v.is_null()).cloned();
            if kind != OpKind::Remove && value.is_none() {
                return Err(syntax(format!("operation {}: `{}` needs a `value`", i + 1, if kind == OpKind::Add { "add" } else { "replace" })));
            }
            Ok(Operation { kind, path, value })
        })
        .collect()
}

/// What applying a request's operations gathers: the member changes, and the filter work left.
struct Work {
    members: Vec<MemberChange>,
    budget: Budget,
}

/// Applies `ops` to `data` in order; returns the member changes they ask for (groups only).
/// All or nothing: on an error `data` may be half changed, so callers apply to a copy.
pub fn apply(rt: &ResourceType, data: &mut Attributes, ops: &[Operation]) -> Result<Vec<MemberChange>, ScimError> {
    let mut work = Work { members: Vec::new(), budget: Budget::default() };
    for op in ops {
        match &op.path {
            Some(path) => apply_path(rt, data, op.kind, path, op.value.as_ref(), false, &mut work)?,
            None => {
                if op.kind == OpKind::Remove {
                    return Err(ScimError::bad(ScimType::NoTarget, "`remove` needs a `path`"));
                }
                let Some(Value::Object(fields)) = &op.value else {
                    return Err(syntax("without a `path`, `value` must be an object of attributes"));
                };
                for (key, value) in fields {
                    if ["schemas", "meta", "id"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
                        continue;
                    }
                    apply_path(rt, data, op.kind, key, Some(value), true, &mut work)?;
                }
            }
        }
    }
    let named: usize = work
        .members
        .iter()
        .map(|c| match c {
            MemberChange::Add(m) | MemberChange::Replace(m) => m.len(),
            MemberChange::Remove(ids) => ids.len(),
            MemberChange::RemoveAll => 0,
        })
        .sum();
    if named > MAX_MEMBERS {
        return Err(ScimError::bad(ScimType::TooMany, format!("a PATCH request changes at most {MAX_MEMBERS} members")));
    }
    Ok(work.members)
}

/// What a path names, resolved against the schema.
struct Target {
    urn: Option<&'static str>,
    attr: &'static Attr,
    sub: Option<&'static Attr>,
    filter: Option<Filter>,
}

/// `lenient`: the key came from a value object without a path, where read-only and unknown
/// attributes are skipped (as in POST/PUT) rather than refused.
fn apply_path(
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
            return Err(ScimError::bad(ScimType::InvalidValue, format!("`{urn}` must be an object")));
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
        Mutability::ReadOnly => return Err(ScimError::bad(ScimType::Mutability, format!("`{raw}` is read-only"))),
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

/// Splits `attr[filter].sub` and resolves the names.
fn resolve(rt: &ResourceType, raw: &str) -> Result<Target, ScimError> {
    let (head, filter, after) = match raw.find('[') {
        None => (raw, None, None),
        Some(open) => {
            let close = closing_bracket(raw, open).ok_or_else(|| bad_path(raw, "`[` is not closed"))?;
            let inner = &raw[open + 1..close];
            let filter = Filter::parse(inner).map_err(|e| ScimError::bad(e.scim_type(), format!("path `{raw}`: {e}")))?;
            let rest = &raw[close + 1..];
            let after = match rest.strip_prefix('.') {
                Some(sub) if !sub.is_empty() => Some(sub),
                None if rest.is_empty() => None,
                _ => return Err(bad_path(raw, "only `.subAttribute` may follow `]`")),
            };
            (&raw[..open], Some(filter), after)
        }
    };
    let path = AttrPath::parse(head).ok_or_else(|| bad_path(raw, "not an attribute path"))?;
    let (urn, attrs): (Option<&'static str>, &'static [Attr]) = match &path.uri {
        None => (None, rt.attrs),
        Some(u) if rt.is_core(u) => (None, rt.attrs),
        Some(u) => match rt.extension(u) {
            Some((urn, attrs)) => (Some(urn), attrs),
            None => return Err(bad_path(raw, "unknown schema")),
        },
    };
    let attr = schema::find(attrs, &path.name).ok_or_else(|| bad_path(raw, "no such attribute"))?;
    let sub_name = match (path.sub.as_deref(), after) {
        (Some(_), Some(_)) => return Err(bad_path(raw, "two sub-attributes")),
        (s, a) => s.or(a),
    };
    if filter.is_some() && path.sub.is_some() {
        return Err(bad_path(raw, "the filter belongs right after the attribute"));
    }
    if filter.is_some() && !attr.multi {
        return Err(bad_path(raw, "a filter selects values of a multi-valued attribute"));
    }
    let sub = match sub_name {
        None => None,
        Some(name) => Some(schema::find(attr.sub, name).ok_or_else(|| bad_path(raw, "no such sub-attribute"))?),
    };
    Ok(Target { urn, attr, sub, filter })
}

/// Byte index of the `]` that closes the `[` at `open`, skipping quoted strings.
fn closing_bracket(raw: &str, open: usize) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in raw[open + 1..].char_indices() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => quoted = false,
            (false, _, '"') => quoted = true,
            (false, _, ']') => return Some(open + 1 + i),
            _ => {}
        }
    }
    None
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
            return Err(ScimError::bad(ScimType::NoTarget, format!("`{raw}` matches no value")));
        };
        match (sub, value) {
            (Some(sub), v) => {
                element.insert(sub.name.to_owned(), v.clone());
            }
            (None, Value::Object(fields)) => element.extend(fields.clone()),
            (None, _) => return Err(ScimError::bad(ScimType::InvalidValue, format!("`{raw}` needs an object value"))),
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
                _ => return Err(ScimError::bad(ScimType::InvalidValue, format!("`{raw}` needs an object value"))),
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

/// Checks members as a client sent them (already coerced): each names its `value` (an id), and
/// its `type`, if any, is `User` or `Group` (any case; kept as `User` or `Group`).
pub fn check_members(members: &mut [Value]) -> Result<(), ScimError> {
    for member in members.iter_mut() {
        if member.get("value").and_then(Value::as_str).is_none_or(|id| !member_id(id)) {
            return Err(ScimError::bad(
                ScimType::InvalidValue,
                format!("every member needs a `value`: a user's or group's id, at most {MAX_ID_CHARS} characters"),
            ));
        }
        let Value::Object(fields) = member else { continue };
        let canonical = match fields.get("type") {
            None => continue,
            Some(Value::String(t)) if t.is_empty() => None,
            Some(Value::String(t)) if t.eq_ignore_ascii_case("User") => Some("User"),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("Group") => Some("Group"),
            Some(other) => return Err(ScimError::bad(ScimType::InvalidValue, format!("a member's `type` is \"User\" or \"Group\", not {other}"))),
        };
        match canonical {
            Some(t) => fields.insert("type".into(), Value::from(t)),
            None => fields.remove("type"),
        };
    }
    Ok(())
}

fn member_change(kind: OpKind, target: &Target, value: Option<&Value>, raw: &str) -> Result<MemberChange, ScimError> {
    let list = |v: Option<&Value>| -> Result<Vec<Value>, ScimError> {
        let Some(v) = v else { return Ok(Vec::new()) };
        let mut members = match coerce(target.attr, v, raw)? {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        if members.len() > MAX_MEMBERS_PER_OPERATION {
            return Err(ScimError::bad(ScimType::TooMany, format!("`{raw}`: one operation changes at most {MAX_MEMBERS_PER_OPERATION} members")));
        }
        check_members(&mut members)?;
        Ok(members)
    };
    if target.sub.is_some() {
        return Err(bad_path(raw, "members are added, removed or replaced whole"));
    }
    match (kind, &target.filter) {
        (OpKind::Remove, Some(filter)) => {
            let mut ids = Vec::new();
            member_ids(filter, &mut ids)
                .ok_or_else(|| ScimError::bad(ScimType::InvalidFilter, format!("`{raw}`: members are selected by `value eq \"id\"`")))?;
            Ok(MemberChange::Remove(ids))
        }
        (OpKind::Remove, None) => match value {
            None => Ok(MemberChange::RemoveAll),
            Some(v) => Ok(MemberChange::Remove(list(Some(v))?.iter().filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_owned)).collect())),
        },
        (_, Some(_)) => Err(bad_path(raw, "members are added or replaced as a list, without a filter")),
        (OpKind::Add, None) => Ok(MemberChange::Add(list(value)?)),
        (OpKind::Replace, None) => Ok(MemberChange::Replace(list(value)?)),
    }
}

/// Longest resource id a member may name (ours are UUIDs).
pub const MAX_ID_CHARS: usize = 64;

fn member_id(id: &str) -> bool {
    (1..=MAX_ID_CHARS).contains(&id.chars().count())
}

/// The ids in `value eq "a" or value eq "b"`.
fn member_ids(filter: &Filter, out: &mut Vec<String>) -> Option<()> {
    match filter {
        Filter::Compare { path, op: CompareOp::Eq, value: CompValue::String(id) } if path.is("value", None) && member_id(id) => {
            out.push(id.clone());
            Some(())
        }
        Filter::Or(a, b) => {
            member_ids(a, out)?;
            member_ids(b, out)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::resource::canonicalise;
    use super::super::schema::{ENTERPRISE, GROUPS, USERS};
    use super::*;
    use serde_json::json;

    fn user() -> Attributes {
        canonicalise(
            &USERS,
            &json!({"userName": "ann@example.com", "active": true, "name": {"givenName": "Ann", "familyName": "Lee"},
                "emails": [{"value": "ann@example.com", "type": "work", "primary": true}, {"value": "ann@home.example", "type": "home"}]}),
        )
        .unwrap()
    }

    fn patch(data: &mut Attributes, ops: Value) -> Result<Vec<MemberChange>, ScimError> {
        let ops = parse(&json!({"schemas": [PATCH_OP], "Operations": ops}))?;
        apply(&USERS, data, &ops)
    }

    #[test]
    fn okta_deactivation_and_entra_quirks() {
        let mut u = user();
        patch(&mut u, json!([{"op": "replace", "value": {"active": false}}])).unwrap();
        assert_eq!(u["active"], false);
        patch(&mut u, json!([{"op": "Replace", "path": "active", "value": "True"}])).unwrap();
        assert_eq!(u["active"], true);
        patch(&mut u, json!([{"op": "Replace", "value": {"name.givenName": "Anne", "name.familyName": "Li", "displayName": "Anne Li"}}])).unwrap();
        assert_eq!(u["name"], json!({"givenName": "Anne", "familyName": "Li"}));
        assert_eq!(u["displayName"], "Anne Li");
        patch(&mut u, json!([{"op": "Add", "path": format!("{ENTERPRISE}:department"), "value": "Sales"}])).unwrap();
        assert_eq!(u[ENTERPRISE], json!({"department": "Sales"}));
        patch(&mut u, json!([{"op": "replace", "value": {ENTERPRISE: {"manager": {"value": "m1"}}}}])).unwrap();
        assert_eq!(u[ENTERPRISE], json!({"department": "Sales", "manager": {"value": "m1"}}));
        patch(&mut u, json!([{"op": "remove", "path": format!("{ENTERPRISE}:department")}, {"op": "remove", "path": format!("{ENTERPRISE}:manager")}]))
            .unwrap();
        assert!(u.get(ENTERPRISE).is_none());
    }

    #[test]
    fn value_path_filters_select_elements() {
        let mut u = user();
        patch(&mut u, json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "ann@new.example"}])).unwrap();
        assert_eq!(u["emails"][0], json!({"value": "ann@new.example", "type": "work", "primary": true}));
        patch(&mut u, json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])).unwrap();
        assert_eq!(u["emails"].as_array().unwrap().len(), 1);
        // No match: Entra's replace creates the element its filter describes.
        patch(&mut u, json!([{"op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+81 90"}])).unwrap();
        assert_eq!(u["phoneNumbers"], json!([{"type": "mobile", "value": "+81 90"}]));
        let e = patch(&mut u, json!([{"op": "replace", "path": "emails[value co \"zzz\"].type", "value": "x"}])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::NoTarget));
        patch(&mut u, json!([{"op": "add", "path": "emails", "value": [{"value": "b@example.com", "primary": true}]}])).unwrap();
        let primaries: Vec<_> = u["emails"].as_array().unwrap().iter().filter(|e| e["primary"] == true).collect();
        assert_eq!(primaries, vec![&json!({"value": "b@example.com", "primary": true})]);
        patch(&mut u, json!([{"op": "remove", "path": "emails", "value": [{"value": "b@example.com"}]}])).unwrap();
        assert_eq!(u["emails"].as_array().unwrap().len(), 1);
        patch(&mut u, json!([{"op": "replace", "path": "name.givenName", "value": "Zoe"}, {"op": "remove", "path": "name.familyName"}])).unwrap();
        assert_eq!(u["name"], json!({"givenName": "Zoe"}));
    }

    #[test]
    fn bad_operations_name_the_problem() {
        let mut u = user();
        let kind = |ops: Value| patch(&mut user(), ops).unwrap_err().scim_type;
        assert_eq!(kind(json!([{"op": "merge", "path": "title", "value": "x"}])), Some(ScimType::InvalidSyntax));
        assert_eq!(kind(json!([{"op": "replace", "path": "title"}])), Some(ScimType::InvalidSyntax));
        assert_eq!(kind(json!([{"op": "remove"}])), Some(ScimType::NoTarget));
        assert_eq!(kind(json!([{"op": "replace", "path": "nonsense", "value": "x"}])), Some(ScimType::InvalidPath));
        assert_eq!(kind(json!([{"op": "replace", "path": "id", "value": "x"}])), Some(ScimType::Mutability));
        assert_eq!(kind(json!([{"op": "replace", "path": "groups", "value": []}])), Some(ScimType::Mutability));
        assert_eq!(kind(json!([{"op": "replace", "path": "emails[type eq ", "value": "x"}])), Some(ScimType::InvalidPath));
        assert_eq!(kind(json!([{"op": "replace", "path": "emails[type eq]", "value": "x"}])), Some(ScimType::InvalidFilter));
        assert_eq!(kind(json!([{"op": "replace", "path": "title[type eq \"x\"]", "value": "x"}])), Some(ScimType::InvalidPath));
        assert_eq!(kind(json!([{"op": "replace", "path": "active", "value": "perhaps"}])), Some(ScimType::InvalidValue));
        assert!(parse(&json!({"Operations": [{"op": "add", "value": {}}]})).is_err(), "schemas is required");
        // Read-only keys inside a value object are skipped, as in PUT.
        patch(&mut u, json!([{"op": "replace", "value": {"id": "x", "meta": {}, "groups": [], "title": "Boss"}}])).unwrap();
        assert_eq!(u["title"], "Boss");
    }

    #[test]
    fn member_operations_become_member_changes() {
        let ops = |ops: Value| {
            let mut g = canonicalise(&GROUPS, &json!({"displayName": "Sales"})).unwrap();
            let parsed = parse(&json!({"schemas": [PATCH_OP], "Operations": ops}))?;
            let changes = apply(&GROUPS, &mut g, &parsed)?;
            Ok::<_, ScimError>((g, changes))
        };
        let (_, c) = ops(json!([{"op": "add", "path": "members", "value": [{"value": "u1", "display": "Ann"}]}])).unwrap();
        assert_eq!(c, vec![MemberChange::Add(vec![json!({"value": "u1", "display": "Ann"})])]);
        let (_, c) = ops(json!([{"op": "remove", "path": "members[value eq \"u1\"]"}])).unwrap();
        assert_eq!(c, vec![MemberChange::Remove(vec!["u1".into()])]);
        let (_, c) = ops(json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]}])).unwrap();
        assert_eq!(c, vec![MemberChange::Remove(vec!["u1".into(), "u2".into()])]);
        let (g, c) = ops(json!([{"op": "replace", "value": {"displayName": "Sales EU", "members": [{"value": "u3"}]}}])).unwrap();
        assert_eq!((g["displayName"].clone(), c), (json!("Sales EU"), vec![MemberChange::Replace(vec![json!({"value": "u3"})])]));
        let (_, c) = ops(json!([{"op": "remove", "path": "members"}])).unwrap();
        assert_eq!(c, vec![MemberChange::RemoveAll]);
        assert!(ops(json!([{"op": "add", "path": "members", "value": [{"display": "no id"}]}])).is_err());
        assert!(ops(json!([{"op": "remove", "path": "members[display eq \"x\"]"}])).is_err());
    }

    #[test]
    fn entra_sets_the_manager_by_its_id() {
        let mut u = user();
        let path = format!("{ENTERPRISE}:manager");
        patch(&mut u, json!([{"op": "Add", "path": path, "value": "26118915-6090-4610-87e4-49d8ca9f808d"}])).unwrap();
        assert_eq!(u[ENTERPRISE], json!({"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}));
        patch(&mut u, json!([{"op": "replace", "value": {ENTERPRISE: {"manager": "m2"}}}])).unwrap();
        assert_eq!(u[ENTERPRISE]["manager"], json!({"value": "m2"}));
        patch(&mut u, json!([{"op": "Replace", "path": path, "value": {"value": "m3"}}])).unwrap();
        assert_eq!(u[ENTERPRISE]["manager"], json!({"value": "m3"}));
        patch(&mut u, json!([{"op": "Replace", "path": path, "value": ""}])).unwrap();
        assert!(u.get(ENTERPRISE).is_none(), "an empty id removes the manager");
    }

    #[test]
    fn member_types_are_kept_as_user_or_group() {
        let ops = |ops: Value| -> Result<Vec<MemberChange>, ScimError> {
            let mut g = canonicalise(&GROUPS, &json!({"displayName": "Sales"})).unwrap();
            apply(&GROUPS, &mut g, &parse(&json!({"schemas": [PATCH_OP], "Operations": ops}))?)
        };
        let c = ops(json!([{"op": "add", "path": "members", "value": [{"value": "u1", "type": "user"}, {"value": "g2", "type": "GROUP"}, {"value": "u3", "type": ""}]}]))
            .unwrap();
        assert_eq!(c, vec![MemberChange::Add(vec![json!({"value": "u1", "type": "User"}), json!({"value": "g2", "type": "Group"}), json!({"value": "u3"})])]);
        let e = ops(json!([{"op": "add", "path": "members", "value": [{"value": "d1", "type": "Device"}]}])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert!(e.detail.contains("Device"), "{}", e.detail);
        let mut replaced = vec![json!({"value": "u1", "type": "Group"})];
        check_members(&mut replaced).unwrap();
        assert_eq!(replaced, vec![json!({"value": "u1", "type": "Group"})]);
        // An id is at most 64 characters, wherever a member is named (a longer one could key no item).
        let long = "m".repeat(MAX_ID_CHARS + 1);
        for bad in [
            json!([{"op": "add", "path": "members", "value": [{"value": long}]}]),
            json!([{"op": "remove", "path": "members", "value": [{"value": long}]}]),
            json!([{"op": "remove", "path": format!("members[value eq \"{long}\"]")}]),
        ] {
            assert!(ops(bad.clone()).is_err(), "{bad}");
        }
    }

    #[test]
    fn one_request_cannot_ask_for_unbounded_work() {
        let title = json!({"op": "replace", "path": "title", "value": "x"});
        let body = |n: usize| {
            let ops: Vec<Value> = vec![title.clone(); n];
            json!({"schemas": [PATCH_OP], "Operations": ops})
        };
        assert!(parse(&body(MAX_OPERATIONS)).is_ok());
        let e = parse(&body(MAX_OPERATIONS + 1)).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::TooMany));
        assert!(e.detail.contains(&MAX_OPERATIONS.to_string()), "{}", e.detail);

        // Values of a multi-valued attribute, however they are added.
        let mut u = user();
        let phones: Vec<Value> = (0..MAX_VALUES).map(|i| json!({"value": format!("+81 {i}"), "type": "work"})).collect();
        patch(&mut u, json!([{"op": "add", "path": "phoneNumbers", "value": phones}])).unwrap();
        let kind = |u: &Attributes, ops: Value| patch(&mut u.clone(), ops).unwrap_err().scim_type;
        assert_eq!(kind(&u, json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": "+81 more"}]}])), Some(ScimType::TooMany));
        assert_eq!(kind(&u, json!([{"op": "add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "+81 fax"}])), Some(ScimType::TooMany));
        let too_long: Vec<Value> = (0..=MAX_VALUES).map(|i| json!({"value": format!("a{i}@example.com")})).collect();
        assert_eq!(kind(&user(), json!([{"op": "replace", "path": "emails", "value": too_long}])), Some(ScimType::TooMany));

        // Comparisons in a value path.
        let terms = |n: usize| (0..n).map(|i| format!("value eq \"x{i}@example.com\"")).collect::<Vec<_>>().join(" or ");
        assert!(patch(&mut user(), json!([{"op": "remove", "path": format!("emails[{}]", terms(50))}])).is_ok());
        assert_eq!(kind(&user(), json!([{"op": "remove", "path": format!("emails[{}]", terms(51))}])), Some(ScimType::TooMany));

        // Members per operation.
        let mut g = canonicalise(&GROUPS, &json!({"displayName": "Sales"})).unwrap();
        let many: Vec<Value> = (0..=MAX_MEMBERS_PER_OPERATION).map(|i| json!({"value": format!("u{i}")})).collect();
        let ops = parse(&json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": many}]})).unwrap();
        assert_eq!(apply(&GROUPS, &mut g, &ops).unwrap_err().scim_type, Some(ScimType::TooMany));
    }

    #[test]
    fn the_filter_work_of_a_request_is_budgeted() {
        // 100 emails of 1,000-byte displays; `co` a 501-byte needle costs about 25 million units
        // over them: one such operation fits the budget, a second does not.
        let display = "a".repeat(1000);
        let emails: Vec<Value> = (0..MAX_VALUES).map(|i| json!({"value": format!("p{i}@example.com"), "display": display})).collect();
        let mut u = user();
        u.insert("emails".into(), Value::Array(emails));
        let op = json!({"op": "remove", "path": format!("emails[display co \"{}b\"]", "a".repeat(500))});
        assert!(patch(&mut u.clone(), json!([op.clone()])).is_ok());
        let e = patch(&mut u, json!([op.clone(), op])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::TooMany));
        assert!(e.detail.contains("units of work"), "{}", e.detail);
    }
}
