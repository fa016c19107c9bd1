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
//! operations, the filter bounds of [`super::filter`] in each value path,
//! [`MAX_VALUES`](super::resource::MAX_VALUES) values in a multi-valued attribute,
//! [`MAX_MEMBERS_PER_OPERATION`] members per operation and [`MAX_MEMBERS`] per request, and all
//! its value-path filters evaluated within one [`Budget`].

mod attributes;
mod members;
mod ops;
mod path;

use serde_json::Value;

use super::error::{Invalid, ScimError};
use super::filter::Budget;
use super::resource::{Attributes, MAX_MEMBERS};
use super::schema::{PATCH_OP, ResourceType};
use attributes::{Work, apply_path};

pub use members::{MAX_ID_CHARS, MAX_MEMBERS_PER_OPERATION, check_members};
pub use ops::{MemberChange, OpKind, Operation};

/// Most operations in one request (Okta and Entra send a handful).
pub const MAX_OPERATIONS: usize = 100;

fn syntax(detail: impl Into<String>) -> ScimError {
    ScimError::invalid(Invalid::Syntax, detail)
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
        return Err(ScimError::invalid(Invalid::TooMany, format!("a PATCH request holds at most {MAX_OPERATIONS} operations")));
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

/// Applies `ops` to `data` in order; returns the member changes they ask for (groups only).
/// All or nothing: on an error `data` may be half changed, so callers apply to a copy.
pub fn apply(rt: &ResourceType, data: &mut Attributes, ops: &[Operation]) -> Result<Vec<MemberChange>, ScimError> {
    let mut work = Work { members: Vec::new(), budget: Budget::default() };
    for op in ops {
        match &op.path {
            Some(path) => apply_path(rt, data, op.kind, path, op.value.as_ref(), false, &mut work)?,
            None => {
                if op.kind == OpKind::Remove {
                    return Err(ScimError::invalid(Invalid::NoTarget, "`remove` needs a `path`"));
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
        return Err(ScimError::invalid(Invalid::TooMany, format!("a PATCH request changes at most {MAX_MEMBERS} members")));
    }
    Ok(work.members)
}

#[cfg(test)]
mod tests {
    use super::super::resource::{MAX_VALUES, canonicalise};
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
        assert_eq!(e.rule(), Some(Invalid::NoTarget));
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
        let kind = |ops: Value| patch(&mut user(), ops).unwrap_err().rule();
        assert_eq!(kind(json!([{"op": "merge", "path": "title", "value": "x"}])), Some(Invalid::Syntax));
        assert_eq!(kind(json!([{"op": "replace", "path": "title"}])), Some(Invalid::Syntax));
        assert_eq!(kind(json!([{"op": "remove"}])), Some(Invalid::NoTarget));
        assert_eq!(kind(json!([{"op": "replace", "path": "nonsense", "value": "x"}])), Some(Invalid::Path));
        assert_eq!(kind(json!([{"op": "replace", "path": "id", "value": "x"}])), Some(Invalid::Mutability));
        assert_eq!(kind(json!([{"op": "replace", "path": "groups", "value": []}])), Some(Invalid::Mutability));
        assert_eq!(kind(json!([{"op": "replace", "path": "emails[type eq ", "value": "x"}])), Some(Invalid::Path));
        assert_eq!(kind(json!([{"op": "replace", "path": "emails[type eq]", "value": "x"}])), Some(Invalid::Filter));
        assert_eq!(kind(json!([{"op": "replace", "path": "title[type eq \"x\"]", "value": "x"}])), Some(Invalid::Path));
        assert_eq!(kind(json!([{"op": "replace", "path": "active", "value": "perhaps"}])), Some(Invalid::Value));
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
        assert_eq!(e.rule(), Some(Invalid::Value));
        assert!(e.to_string().contains("Device"), "{e}");
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
        assert_eq!(e.rule(), Some(Invalid::TooMany));
        assert!(e.to_string().contains(&MAX_OPERATIONS.to_string()), "{e}");

        // Values of a multi-valued attribute, however they are added.
        let mut u = user();
        let phones: Vec<Value> = (0..MAX_VALUES).map(|i| json!({"value": format!("+81 {i}"), "type": "work"})).collect();
        patch(&mut u, json!([{"op": "add", "path": "phoneNumbers", "value": phones}])).unwrap();
        let kind = |u: &Attributes, ops: Value| patch(&mut u.clone(), ops).unwrap_err().rule();
        assert_eq!(kind(&u, json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": "+81 more"}]}])), Some(Invalid::TooMany));
        assert_eq!(kind(&u, json!([{"op": "add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "+81 fax"}])), Some(Invalid::TooMany));
        let too_long: Vec<Value> = (0..=MAX_VALUES).map(|i| json!({"value": format!("a{i}@example.com")})).collect();
        assert_eq!(kind(&user(), json!([{"op": "replace", "path": "emails", "value": too_long}])), Some(Invalid::TooMany));

        // Comparisons in a value path.
        let terms = |n: usize| (0..n).map(|i| format!("value eq \"x{i}@example.com\"")).collect::<Vec<_>>().join(" or ");
        assert!(patch(&mut user(), json!([{"op": "remove", "path": format!("emails[{}]", terms(50))}])).is_ok());
        assert_eq!(kind(&user(), json!([{"op": "remove", "path": format!("emails[{}]", terms(51))}])), Some(Invalid::TooMany));

        // Members per operation.
        let mut g = canonicalise(&GROUPS, &json!({"displayName": "Sales"})).unwrap();
        let many: Vec<Value> = (0..=MAX_MEMBERS_PER_OPERATION).map(|i| json!({"value": format!("u{i}")})).collect();
        let ops = parse(&json!({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "members", "value": many}]})).unwrap();
        assert_eq!(apply(&GROUPS, &mut g, &ops).unwrap_err().rule(), Some(Invalid::TooMany));
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
        assert_eq!(e.rule(), Some(Invalid::TooMany));
        assert!(e.to_string().contains("units of work"), "{e}");
    }
}
