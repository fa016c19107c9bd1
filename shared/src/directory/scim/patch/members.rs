//! A group's members in a PATCH: the operations on `members` turned into [`MemberChange`]s,
//! and the checks every member named must pass (an id, a `type` of `User` or `Group`). The
//! store applies the changes; nothing here touches the group's other attributes.

use serde_json::Value;

use super::ops::{MemberChange, OpKind};
use super::path::{Target, bad_path};
use crate::directory::scim::error::{Invalid, ScimError};
use crate::directory::scim::filter::{CompValue, CompareOp, Filter};
use crate::directory::scim::resource::coerce;

/// Most members one operation adds, removes or replaces.
pub const MAX_MEMBERS_PER_OPERATION: usize = 1000;

/// Checks members as a client sent them (already coerced): each names its `value` (an id), and
/// its `type`, if any, is `User` or `Group` (any case; kept as `User` or `Group`).
pub fn check_members(members: &mut [Value]) -> Result<(), ScimError> {
    for member in members.iter_mut() {
        if member.get("value").and_then(Value::as_str).is_none_or(|id| !member_id(id)) {
            return Err(ScimError::invalid(Invalid::Value, format!("every member needs a `value`: a user's or group's id, at most {MAX_ID_CHARS} characters")));
        }
        let Value::Object(fields) = member else { continue };
        let canonical = match fields.get("type") {
            None => continue,
            Some(Value::String(t)) if t.is_empty() => None,
            Some(Value::String(t)) if t.eq_ignore_ascii_case("User") => Some("User"),
            Some(Value::String(t)) if t.eq_ignore_ascii_case("Group") => Some("Group"),
            Some(other) => return Err(ScimError::invalid(Invalid::Value, format!("a member's `type` is \"User\" or \"Group\", not {other}"))),
        };
        match canonical {
            Some(t) => fields.insert("type".into(), Value::from(t)),
            None => fields.remove("type"),
        };
    }
    Ok(())
}

pub(super) fn member_change(kind: OpKind, target: &Target, value: Option<&Value>, raw: &str) -> Result<MemberChange, ScimError> {
    let list = |v: Option<&Value>| -> Result<Vec<Value>, ScimError> {
        let Some(v) = v else { return Ok(Vec::new()) };
        let mut members = match coerce(target.attr, v, raw)? {
            Some(Value::Array(items)) => items,
            _ => Vec::new(),
        };
        if members.len() > MAX_MEMBERS_PER_OPERATION {
            return Err(ScimError::invalid(Invalid::TooMany, format!("`{raw}`: one operation changes at most {MAX_MEMBERS_PER_OPERATION} members")));
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
            member_ids(filter, &mut ids).ok_or_else(|| ScimError::invalid(Invalid::Filter, format!("`{raw}`: members are selected by `value eq \"id\"`")))?;
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
