//! The claim mapping: which claims an app's token carries, and where each value comes from.
//! One language for every app kind. A claim comes from:
//!
//! - `attribute`: a Cognito attribute, standard or custom (`locale`, `custom:company`); `email`
//!   only when it is verified;
//! - `subject`: the user's stable id (Cognito's `sub`);
//! - `groups`: the user's groups, optionally only those with a `prefix` (and without it),
//!   renamed through `rename`, sorted, as an array or, with `join`, one string (`"1,2,3"`);
//! - `group_map`: the value of the first listed group the user is in, else `default`;
//! - `organisation`: the id of the user's organisation (corporate customers);
//! - `constant`: the same value for everyone.
//!
//! Any claim may say `"required": true`: a person without a value for it is refused with a
//! clear error instead of getting a token without it. For example:
//!
//! ```json
//! {
//!   "organization": { "from": "attribute", "name": "custom:company", "required": true },
//!   "roles":        { "from": "groups", "prefix": "community-", "strip_prefix": true,
//!                     "rename": { "moderators": "3" }, "join": "," },
//!   "role":         { "from": "group_map", "map": [{ "group": "zendesk-admins", "value": "admin" }],
//!                     "default": "user" },
//!   "user_fields.plan": { "from": "constant", "value": "gold" }
//! }
//! ```
//!
//! A dotted claim name (`user_fields.plan`) nests one level. A source with no value for this
//! person (a missing attribute, no matching group and no default) leaves the claim out.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

use crate::common::profile::{ORG_ATTRIBUTE, UserProfile};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ClaimMapping(pub BTreeMap<String, ClaimRule>);

/// Where one claim comes from, and whether a person without it may still sign in.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimRule {
    pub source: ClaimSource,
    pub required: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClaimSource {
    /// A user attribute by its Cognito name (`phone_number`, `locale`, `custom:company`).
    Attribute { name: String },
    /// The user's stable id.
    Subject,
    /// The user's groups, optionally only those with `prefix` (and without it), renamed.
    Groups {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        #[serde(default)]
        strip_prefix: bool,
        /// Group (after the prefix is stripped) to the name the app knows it by.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        rename: BTreeMap<String, String>,
        /// One string with this separator instead of an array.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        join: Option<String>,
    },
    /// The value of the first entry whose group the user belongs to, else `default`.
    GroupMap {
        map: Vec<GroupValue>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        default: Option<Value>,
    },
    /// The id of the user's organisation.
    Organisation,
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

/// A required claim this person has no value for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the user has no value for the required claim `{0}`")]
pub struct MissingClaim(pub String);

impl<'de> Deserialize<'de> for ClaimRule {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let mut fields = Map::<String, Value>::deserialize(deserializer)?;
        let required = match fields.remove("required") {
            None => false,
            Some(Value::Bool(b)) => b,
            Some(_) => return Err(D::Error::custom("`required` is true or false")),
        };
        let source = ClaimSource::deserialize(Value::Object(fields)).map_err(D::Error::custom)?;
        Ok(Self { source, required })
    }
}

impl Serialize for ClaimRule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut value = serde_json::to_value(&self.source).map_err(serde::ser::Error::custom)?;
        if let (true, Value::Object(fields)) = (self.required, &mut value) {
            fields.insert("required".into(), Value::Bool(true));
        }
        value.serialize(serializer)
    }
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
    pub fn apply(&self, profile: &UserProfile) -> Result<Map<String, Value>, MissingClaim> {
        let mut out = Map::new();
        for (name, rule) in &self.0 {
            let Some(value) = rule.source.resolve(profile) else {
                if rule.required {
                    return Err(MissingClaim(name.clone()));
                }
                continue;
            };
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
        Ok(out)
    }
}

impl ClaimSource {
    fn resolve(&self, profile: &UserProfile) -> Option<Value> {
        match self {
            Self::Attribute { name } if name == "email" => profile.email.as_ref().filter(|_| profile.email_verified).map(|e| e.as_str().into()),
            // A number the person typed on their account page goes to no app before they prove it.
            Self::Attribute { name } if name == "phone_number" => {
                profile.attribute(name).filter(|_| profile.attribute("phone_number_verified") == Some("true")).map(|v| Value::String(v.to_owned()))
            }
            Self::Attribute { name } => profile.attribute(name).map(|v| Value::String(v.to_owned())),
            Self::Subject => Some(profile.subject.clone().into()),
            Self::Groups { prefix, strip_prefix, rename, join } => {
                let prefix = prefix.as_deref().unwrap_or("");
                let groups = profile
                    .groups
                    .iter()
                    .filter_map(|g| g.strip_prefix(prefix).map(|rest| if *strip_prefix { rest } else { g.as_str() }))
                    .filter(|g| !g.is_empty())
                    .map(|g| rename.get(g).map_or(g, String::as_str).to_owned())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter();
                Some(match join {
                    Some(separator) => Value::String(groups.collect::<Vec<_>>().join(separator)),
                    None => Value::Array(groups.map(Value::String).collect()),
                })
            }
            Self::GroupMap { map, default } => {
                map.iter().find(|entry| profile.groups.contains(&entry.group)).map(|entry| entry.value.clone()).or_else(|| default.clone())
            }
            Self::Organisation => profile.attribute(ORG_ATTRIBUTE).map(|v| Value::String(v.to_owned())),
            Self::Constant { value } => Some(value.clone()),
        }
    }
}

/// A claim value as text, for apps that take flat strings (DiscourseConnect): arrays are
/// comma-joined; objects and nulls have no text form.
pub fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(items) => Some(items.iter().filter_map(as_text).collect::<Vec<_>>().join(",")),
        Value::Object(_) | Value::Null => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile() -> UserProfile {
        let claims = json!({"sub": "s", "custom:company": "Acme", "phone_number": "+81312345678", "phone_number_verified": true,
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
            Value::Object(m.apply(&profile()).unwrap_or_default()),
            json!({"organization": "Acme", "phone": "+81312345678", "tags": ["vip"], "role": "agent",
                   "user_fields": {"plan": "gold", "company": "Acme"}})
        );
    }

    #[test]
    fn group_map_default_and_missing() {
        let with_default = mapping(json!({"role": {"from": "group_map", "map": [{"group": "x", "value": "admin"}], "default": "user"}}));
        assert_eq!(with_default.apply(&profile()).unwrap_or_default().get("role"), Some(&json!("user")));
        let without = mapping(json!({"role": {"from": "group_map", "map": [{"group": "x", "value": "admin"}]}}));
        assert!(without.apply(&profile()).unwrap_or_default().is_empty());
    }

    #[test]
    fn validation_refuses_reserved_and_deep_names() {
        let reserved = ["email", "iat"];
        assert_eq!(mapping(json!({"email": {"from": "constant", "value": 1}})).validate(&reserved), Err(MappingError::Reserved("email".into())));
        assert_eq!(mapping(json!({"a.b.c": {"from": "constant", "value": 1}})).validate(&reserved), Err(MappingError::BadName("a.b.c".into())));
        assert!(serde_json::from_value::<ClaimMapping>(json!({"x": {"from": "nowhere"}})).is_err());
        assert!(serde_json::from_value::<ClaimMapping>(json!({"x": {"from": "constant", "value": 1, "typo": 2}})).is_err());
    }

    #[test]
    fn groups_filtered_renamed_joined_subject_and_organisation() {
        let claims = json!({"sub": "s-9", "custom:org_id": "org-1", "email": "a@b.co", "email_verified": "false",
                            "cognito:groups": ["community-moderators", "community-beta", "other"]});
        let p = UserProfile::from_claims(claims.as_object().unwrap_or(&Map::new())).unwrap_or_else(|e| panic!("{e}"));
        let m = mapping(json!({
            "roles": {"from": "groups", "prefix": "community-", "strip_prefix": true, "rename": {"moderators": "3"}, "join": ","},
            "all": {"from": "groups", "rename": {"other": "x"}},
            "id": {"from": "subject"},
            "org": {"from": "organisation"},
            "email": {"from": "attribute", "name": "email"}
        }));
        assert_eq!(
            Value::Object(m.apply(&p).unwrap_or_default()),
            json!({"roles": "3,beta", "all": ["community-beta", "community-moderators", "x"], "id": "s-9", "org": "org-1"}),
            "an unverified email is never mapped"
        );
    }

    #[test]
    fn an_unverified_phone_number_is_never_mapped() {
        let m = mapping(json!({"phone": {"from": "attribute", "name": "phone_number"}}));
        let with = |verified: &str| {
            let claims = json!({"sub": "s-1", "phone_number": "+819012345678", "phone_number_verified": verified});
            UserProfile::from_claims(claims.as_object().unwrap_or(&Map::new())).unwrap_or_else(|e| panic!("{e}"))
        };
        assert_eq!(Value::Object(m.apply(&with("true")).unwrap_or_default()), json!({"phone": "+819012345678"}));
        assert_eq!(Value::Object(m.apply(&with("false")).unwrap_or_default()), json!({}));
    }

    #[test]
    fn required_claims_refuse_instead_of_leaving_out() {
        let m = mapping(json!({"locale": {"from": "attribute", "name": "locale", "required": true}}));
        assert_eq!(m.apply(&profile()), Err(MissingClaim("locale".into())));
        assert_eq!(serde_json::to_value(&m).ok(), Some(json!({"locale": {"from": "attribute", "name": "locale", "required": true}})));
        assert!(serde_json::from_value::<ClaimMapping>(json!({"x": {"from": "subject", "required": "yes"}})).is_err());
    }

    #[test]
    fn text_forms() {
        assert_eq!(as_text(&json!(["a", "b"])).as_deref(), Some("a,b"));
        assert_eq!(as_text(&json!(true)).as_deref(), Some("true"));
        assert_eq!(as_text(&json!({"a": 1})), None);
    }
}
