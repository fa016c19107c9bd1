//! The claim mapping: which extra claims an app's token carries, and where each value comes from
//! (a user attribute, the user's groups, a group-to-value table, or a constant).
//!
//! A mapping is data an operator writes (JSON), for example:
//!
//! ```json
//! {
//!   "organization": { "from": "attribute", "name": "custom:company" },
//!   "tags":         { "from": "groups", "prefix": "zd-", "strip_prefix": true },
//!   "role":         { "from": "group_map", "map": [{ "group": "zendesk-admins", "value": "admin" },
//!                                                  { "group": "zendesk-agents", "value": "agent" }],
//!                     "default": "user" },
//!   "user_fields.plan": { "from": "constant", "value": "gold" }
//! }
//! ```
//!
//! A dotted claim name (`user_fields.plan`) nests one level. A source with no value for this
//! person (a missing attribute, no matching group and no default) leaves the claim out.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use super::profile::UserProfile;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClaimMapping(pub BTreeMap<String, ClaimSource>);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClaimSource {
    /// A user attribute by its Cognito name (`phone_number`, `locale`, `custom:company`).
    Attribute { name: String },
    /// The user's groups as an array, optionally only those with `prefix` (and without it).
    Groups {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        #[serde(default)]
        strip_prefix: bool,
    },
    /// The value of the first entry whose group the user belongs to, else `default`.
    GroupMap {
        map: Vec<GroupValue>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<Value>,
    },
    /// The same value for everyone.
    Constant { value: Value },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupValue {
    pub group: String,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error("claim `{0}` is set by the bridge itself and cannot be mapped")]
    Reserved(String),
    #[error("claim name `{0}` is empty or nests more than one level")]
    BadName(String),
}

impl ClaimMapping {
    /// Checks the names against the claims this app kind sets itself.
    pub fn validate(&self, reserved: &[&str]) -> Result<(), MappingError> {
        for name in self.0.keys() {
            let parts: Vec<&str> = name.split('.').collect();
            if parts.len() > 2 || parts.iter().any(|p| p.is_empty()) {
                return Err(MappingError::BadName(name.clone()));
            }
            if reserved.contains(&parts[0]) {
                return Err(MappingError::Reserved(name.clone()));
            }
        }
        Ok(())
    }

    /// The mapped claims for this person, ready to merge into a token.
    pub fn apply(&self, profile: &UserProfile) -> Map<String, Value> {
        let mut out = Map::new();
        for (name, source) in &self.0 {
            let Some(value) = source.resolve(profile) else { continue };
            match name.split_once('.') {
                None => {
                    out.insert(name.clone(), value);
                }
                Some((outer, inner)) => {
                    let slot = out.entry(outer.to_owned()).or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(obj) = slot {
                        obj.insert(inner.to_owned(), value);
                    }
                }
            }
        }
        out
    }
}

impl ClaimSource {
    fn resolve(&self, profile: &UserProfile) -> Option<Value> {
        match self {
            Self::Attribute { name } => profile.attribute(name).map(|v| Value::String(v.to_owned())),
            Self::Groups { prefix, strip_prefix } => {
                let prefix = prefix.as_deref().unwrap_or("");
                let groups = profile
                    .groups
                    .iter()
                    .filter_map(|g| g.strip_prefix(prefix).map(|rest| if *strip_prefix { rest } else { g.as_str() }))
                    .filter(|g| !g.is_empty())
                    .map(|g| Value::String(g.to_owned()))
                    .collect();
                Some(Value::Array(groups))
            }
            Self::GroupMap { map, default } => {
                map.iter().find(|entry| profile.groups.contains(&entry.group)).map(|entry| entry.value.clone()).or_else(|| default.clone())
            }
            Self::Constant { value } => Some(value.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile() -> UserProfile {
        let claims = json!({"sub": "s", "custom:company": "Acme", "phone_number": "+81312345678",
                            "cognito:groups": ["zd-vip", "zendesk-agents", "other"]});
        UserProfile::from_claims(claims.as_object().unwrap_or(&Map::new())).unwrap_or_else(|e| panic!("{e}"))
    }

    fn mapping(v: Value) -> ClaimMapping {
        serde_json::from_value(v).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn maps_attributes_groups_tables_and_constants() {
        let m = mapping(json!({
            "organization": {"from": "attribute", "name": "custom:company"},
            "phone": {"from": "attribute", "name": "phone_number"},
            "locale": {"from": "attribute", "name": "locale"},
            "tags": {"from": "groups", "prefix": "zd-", "strip_prefix": true},
            "role": {"from": "group_map", "map": [{"group": "zendesk-admins", "value": "admin"}, {"group": "zendesk-agents", "value": "agent"}], "default": "user"},
            "user_fields.plan": {"from": "constant", "value": "gold"},
            "user_fields.company": {"from": "attribute", "name": "custom:company"}
        }));
        assert_eq!(
            Value::Object(m.apply(&profile())),
            json!({"organization": "Acme", "phone": "+81312345678", "tags": ["vip"], "role": "agent",
                   "user_fields": {"plan": "gold", "company": "Acme"}})
        );
    }

    #[test]
    fn group_map_default_and_missing() {
        let with_default = mapping(json!({"role": {"from": "group_map", "map": [{"group": "x", "value": "admin"}], "default": "user"}}));
        assert_eq!(with_default.apply(&profile()).get("role"), Some(&json!("user")));
        let without = mapping(json!({"role": {"from": "group_map", "map": [{"group": "x", "value": "admin"}]}}));
        assert!(without.apply(&profile()).is_empty());
    }

    #[test]
    fn validation_refuses_reserved_and_deep_names() {
        let reserved = ["email", "iat"];
        assert_eq!(mapping(json!({"email": {"from": "constant", "value": 1}})).validate(&reserved), Err(MappingError::Reserved("email".into())));
        assert_eq!(mapping(json!({"a.b.c": {"from": "constant", "value": 1}})).validate(&reserved), Err(MappingError::BadName("a.b.c".into())));
        assert!(serde_json::from_value::<ClaimMapping>(json!({"x": {"from": "nowhere"}})).is_err());
        assert!(serde_json::from_value::<ClaimMapping>(json!({"x": {"from": "constant", "value": 1, "typo": 2}})).is_err());
    }
}
