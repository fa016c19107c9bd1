//! A SCIM resource as the bridge keeps it: our `id`, a `version` (the ETag), timestamps, and the
//! client's attributes in canonical form (schema names, checked types, read-only and write-only
//! attributes dropped, the enterprise `manager` sent as a bare id made `{"value": id}`, at most
//! [`MAX_VALUES`] values in a multi-valued attribute and [`MAX_MEMBERS`] members). Turns client
//! JSON into that form, and a record back into the JSON a client sees (with `schemas` and
//! `meta`), trimmed by `attributes` / `excludedAttributes`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{Invalid, ScimError};
use super::schema::{Attr, Mutability, ResourceType, Returned, Type};

pub type Attributes = Map<String, Value>;

/// Most values of one multi-valued attribute (`emails`, `phoneNumbers`, `addresses`...).
pub const MAX_VALUES: usize = 100;
/// Most members a group's body (POST, PUT) or one PATCH request names.
pub const MAX_MEMBERS: usize = 10_000;
/// Longest `userName`, `externalId` or `displayName` in UTF-8 bytes (they key uniqueness items,
/// and a key is at most 1,024 bytes even after lower-casing: 256 characters of most scripts).
pub const MAX_KEY_BYTES: usize = 512;
/// Longest email address in bytes (RFC 5321's path limit less the brackets; emails key look-ups).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Largest resource, as JSON without its group members (which are stored one item each).
pub const MAX_RESOURCE_BYTES: usize = 64 * 1024;
/// Most bytes of stored resources one listing evaluates in memory (a filter or a sort that no
/// key answers): the function has 256 MB, and a resource read, parsed and rendered takes several
/// times its stored size. Past it, `tooMany`, as past `SCIM_FILTER_LIMIT` resources.
pub const MAX_EVALUATED_BYTES: usize = 16 * 1024 * 1024;
/// Most bytes of resources one list answer carries (Lambda answers at most 6 MB): past it, the
/// page ends early and `itemsPerPage` says how many it holds (RFC 7644 3.4.2.4 lets a service
/// provider return fewer than `count`); the client's next `startIndex` goes on from there.
pub const MAX_PAGE_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Kind {
    User,
    Group,
}

impl Kind {
    pub fn resource_type(self) -> &'static ResourceType {
        match self {
            Kind::User => &super::schema::USERS,
            Kind::Group => &super::schema::GROUPS,
        }
    }
}

/// One stored resource. Group members are not in `data`: they are stored one item each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub kind: Kind,
    pub id: String,
    pub version: u64,
    /// RFC 3339 UTC.
    pub created: String,
    pub last_modified: String,
    pub data: Attributes,
}

impl Record {
    pub fn etag(&self) -> String {
        etag(self.version)
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.data.get(name).and_then(Value::as_str)
    }

    /// `userName` lower-cased (users) or `displayName` lower-cased (groups): the unique key.
    pub fn unique_name(&self) -> Option<String> {
        let name = match self.kind {
            Kind::User => "userName",
            Kind::Group => "displayName",
        };
        self.text(name).map(str::to_lowercase)
    }

    pub fn external_id(&self) -> Option<&str> {
        self.text("externalId")
    }

    /// `active`, which SCIM defaults to true when unassigned.
    pub fn active(&self) -> bool {
        self.data.get("active").and_then(Value::as_bool).unwrap_or(true)
    }

    /// The emails, lower-cased, without repeats (the store indexes them).
    pub fn emails(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in self.data.get("emails").and_then(Value::as_array).into_iter().flatten() {
            if let Some(v) = e.get("value").and_then(Value::as_str) {
                let v = v.to_lowercase();
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// The address to sign the person in with: the primary email, else the first, else a
    /// `userName` that looks like an email.
    pub fn primary_email(&self) -> Option<String> {
        self.sign_in_email().map(|(_, email)| email.to_owned())
    }

    /// [`Record::primary_email`] as written, and the attribute it comes from (`emails` or
    /// `userName`).
    pub fn sign_in_email(&self) -> Option<(&'static str, &str)> {
        let emails = self.data.get("emails").and_then(Value::as_array);
        let primary = emails.and_then(|list| list.iter().find(|e| e.get("primary").and_then(Value::as_bool) == Some(true)).or(list.first()));
        match primary.and_then(|e| e.get("value").and_then(Value::as_str)) {
            Some(email) => Some(("emails", email)),
            None => self.text("userName").filter(|u| u.contains('@')).map(|u| ("userName", u)),
        }
    }

    /// The resource as a client sees it, before `attributes` / `excludedAttributes`.
    pub fn to_json(&self, base: &str) -> Value {
        let rt = self.kind.resource_type();
        let mut schemas = vec![Value::from(rt.schema)];
        let mut out = Map::new();
        out.insert("id".into(), Value::from(self.id.clone()));
        for (k, v) in &self.data {
            if rt.extension(k).is_some() {
                schemas.push(Value::from(k.clone()));
            }
            out.insert(k.clone(), v.clone());
        }
        out.insert("schemas".into(), Value::Array(schemas));
        out.insert(
            "meta".into(),
            json!({
                "resourceType": rt.name,
                "created": self.created,
                "lastModified": self.last_modified,
                "location": format!("{base}/{}/{}", rt.endpoint, self.id),
                "version": self.etag(),
            }),
        );
        Value::Object(out)
    }
}

pub fn etag(version: u64) -> String {
    format!("W/\"{version}\"")
}

pub use crate::common::time::rfc3339 as timestamp;

fn invalid(path: &str, what: &str) -> ScimError {
    ScimError::invalid(Invalid::Value, format!("`{path}` {what}"))
}

/// A multi-valued attribute past its bound.
pub fn too_many(path: &str, most: usize) -> ScimError {
    ScimError::invalid(Invalid::TooMany, format!("`{path}` holds at most {most} values"))
}

/// A client's resource (POST or PUT body) in canonical form. Read-only attributes (`id`, `meta`,
/// `groups`) are ignored as RFC 7643 asks; `password` is never stored; unknown attributes are
/// ignored; `null` means unassigned.
pub fn canonicalise(rt: &ResourceType, input: &Value) -> Result<Attributes, ScimError> {
    let Value::Object(input) = input else {
        return Err(ScimError::invalid(Invalid::Syntax, "the body must be a JSON object"));
    };
    let mut out = Attributes::new();
    for (key, value) in input {
        if ["schemas", "meta", "id"].iter().any(|k| k.eq_ignore_ascii_case(key)) {
            continue;
        }
        if let Some((urn, attrs)) = rt.extension(key) {
            let Value::Object(fields) = value else {
                if value.is_null() {
                    continue;
                }
                return Err(invalid(key, "must be an object"));
            };
            let mut ext = Attributes::new();
            for (name, v) in fields {
                if let Some(attr) = super::schema::find(attrs, name) {
                    put(&mut ext, attr, v, name)?;
                }
            }
            if !ext.is_empty() {
                out.insert(urn.to_owned(), Value::Object(ext));
            }
            continue;
        }
        let name = match key.rsplit_once(':') {
            Some((urn, name)) if rt.is_core(urn) => name,
            Some((urn, name)) => {
                if let Some((urn, attrs)) = rt.extension(urn)
                    && let Some(attr) = super::schema::find(attrs, name)
                {
                    let ext = out.entry(urn.to_owned()).or_insert_with(|| Value::Object(Attributes::new()));
                    if let Value::Object(ext) = ext {
                        put(ext, attr, value, key)?;
                    }
                }
                continue;
            }
            None => key.as_str(),
        };
        if let Some(attr) = rt.attr(name) {
            put(&mut out, attr, value, key)?;
        }
    }
    Ok(out)
}

/// Stores `value` for `attr` in `into` if the client may write it.
fn put(into: &mut Attributes, attr: &Attr, value: &Value, path: &str) -> Result<(), ScimError> {
    if matches!(attr.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
        return Ok(());
    }
    match coerce(attr, value, path)? {
        Some(v) => into.insert(attr.name.to_owned(), v),
        None => into.remove(attr.name),
    };
    Ok(())
}

/// `value` checked and converted for `attr` (whole attribute: a list if multi-valued).
/// `None`: unassigned.
pub fn coerce(attr: &Attr, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    if !attr.multi {
        return coerce_one(attr, value, path);
    }
    let items: Vec<&Value> = match value {
        Value::Null => return Ok(None),
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let most = if attr.name == "members" { MAX_MEMBERS } else { MAX_VALUES };
    if items.len() > most {
        return Err(too_many(path, most));
    }
    let mut out = Vec::new();
    for item in items {
        if let Some(v) = coerce_one(attr, item, path)? {
            out.push(v);
        }
    }
    let primaries = out.iter().filter(|v| v.get("primary") == Some(&Value::Bool(true))).count();
    if primaries > 1 {
        return Err(invalid(path, "has more than one primary value"));
    }
    Ok((!out.is_empty()).then_some(Value::Array(out)))
}

/// One value of `attr` (an element, for multi-valued attributes).
pub fn coerce_one(attr: &Attr, value: &Value, path: &str) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    // Entra sends the enterprise `manager` as the manager's id alone: a single complex attribute
    // whose `value` is the whole of it.
    if let (Value::String(id), Type::Complex, false) = (value, attr.ty, attr.multi)
        && super::schema::find(attr.sub, "value").is_some()
    {
        return Ok((!id.trim().is_empty()).then(|| json!({"value": id})));
    }
    let ok = match attr.ty {
        Type::String | Type::Reference | Type::DateTime => value.is_string(),
        Type::Boolean => {
            // Entra sends "True"/"False".
            if let Value::String(s) = value {
                return match s.to_ascii_lowercase().as_str() {
                    "true" => Ok(Some(Value::Bool(true))),
                    "false" => Ok(Some(Value::Bool(false))),
                    _ => Err(invalid(path, "must be true or false")),
                };
            }
            value.is_boolean()
        }
        Type::Integer => value.is_i64() || value.is_u64(),
        Type::Decimal => value.is_number(),
        Type::Complex => {
            let Value::Object(fields) = value else {
                return Err(invalid(path, "must be an object"));
            };
            let mut out = Attributes::new();
            for (name, v) in fields {
                if let Some(sub) = super::schema::find(attr.sub, name) {
                    if sub.mutability == Mutability::ReadOnly {
                        continue;
                    }
                    if let Some(v) = coerce_one(sub, v, &format!("{path}.{name}"))? {
                        out.insert(sub.name.to_owned(), v);
                    }
                }
            }
            return Ok((!out.is_empty()).then_some(Value::Object(out)));
        }
    };
    if ok { Ok(Some(value.clone())) } else { Err(invalid(path, &format!("must be a {:?}", attr.ty).to_lowercase())) }
}

/// Required attributes are present (RFC 7643 `required`).
/// Checks a resource about to be stored: its required attributes are there, the strings that
/// key it (`userName`, `externalId`, `displayName`) are at most [`MAX_KEY_BYTES`] bytes, its
/// email addresses at most [`MAX_EMAIL_BYTES`] (400 `invalidValue`), and
/// all of it is at most [`MAX_RESOURCE_BYTES`] as JSON (a table item holds 400 KB); past a
/// bound, 400 `tooMany` naming it.
pub fn check_resource(rt: &ResourceType, data: &Attributes) -> Result<(), ScimError> {
    for key in ["userName", "externalId", "displayName"] {
        if let Some(Value::String(s)) = data.get(key)
            && s.len() > MAX_KEY_BYTES
        {
            return Err(ScimError::invalid(Invalid::TooMany, format!("`{key}` is at most {MAX_KEY_BYTES} bytes in UTF-8")));
        }
    }
    let emails = data.get("emails").and_then(Value::as_array).into_iter().flatten();
    if emails.filter_map(|e| e.get("value").and_then(Value::as_str)).any(|v| v.len() > MAX_EMAIL_BYTES) {
        return Err(ScimError::invalid(Invalid::Value, format!("an email address is at most {MAX_EMAIL_BYTES} bytes")));
    }
    let bytes = serde_json::to_vec(data).map_or(usize::MAX, |json| json.len());
    if bytes > MAX_RESOURCE_BYTES {
        return Err(ScimError::invalid(Invalid::TooMany, format!("a resource is at most {MAX_RESOURCE_BYTES} bytes as JSON (this one: {bytes})")));
    }
    for attr in rt.attrs.iter().filter(|a| a.required) {
        let present = match data.get(attr.name) {
            Some(Value::String(s)) => !s.trim().is_empty(),
            Some(Value::Null) | None => false,
            Some(_) => true,
        };
        if !present {
            return Err(ScimError::invalid(Invalid::Value, format!("`{}` is required", attr.name)));
        }
    }
    Ok(())
}

/// `attributes` / `excludedAttributes` (RFC 7644 §3.9), parsed once per request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Projection {
    /// `Some`: return only these (plus `returned: always`).
    pub only: Option<Vec<Name>>,
    pub excluded: Vec<Name>,
}

/// An attribute named in a projection: `[urn:]name[.sub]`, or a whole extension (`name` empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl Name {
    fn parse(rt: &ResourceType, raw: &str) -> Self {
        let raw = raw.trim();
        if let Some((urn, _)) = rt.extension(raw) {
            return Self { urn: Some(urn.to_owned()), name: String::new(), sub: None };
        }
        let (urn, rest) = match raw.rsplit_once(':') {
            Some((u, r)) if rt.is_core(u) => (None, r),
            Some((u, r)) => (Some(rt.extension(u).map_or(u.to_owned(), |(u, _)| u.to_owned())), r),
            None => (None, raw),
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n.to_owned(), Some(s.to_owned())),
            None => (rest.to_owned(), None),
        };
        Self { urn, name, sub }
    }

    fn covers(&self, urn: Option<&str>, name: &str) -> bool {
        let urn_ok = match (&self.urn, urn) {
            (None, None) => true,
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        urn_ok && (self.name.is_empty() || self.name.eq_ignore_ascii_case(name))
    }
}

impl Projection {
    pub fn parse(rt: &ResourceType, attributes: Option<&str>, excluded: Option<&str>) -> Self {
        let list = |s: &str| s.split(',').filter(|p| !p.trim().is_empty()).map(|p| Name::parse(rt, p)).collect::<Vec<_>>();
        Self { only: attributes.map(list).filter(|l| !l.is_empty()), excluded: excluded.map(list).unwrap_or_default() }
    }

    /// Whether the response carries the core attribute `name` (lets the service skip reading
    /// group members nobody asked for).
    pub fn wants(&self, name: &str) -> bool {
        let listed = |names: &[Name]| names.iter().any(|n| n.urn.is_none() && n.name.eq_ignore_ascii_case(name));
        match &self.only {
            Some(only) => listed(only),
            None => !self.excluded.iter().any(|n| n.urn.is_none() && n.name.eq_ignore_ascii_case(name) && n.sub.is_none()),
        }
    }

    pub fn apply(&self, rt: &ResourceType, resource: Value) -> Value {
        let Value::Object(mut fields) = resource else { return resource };
        let always = |key: &str| key == "schemas" || rt.attr(key).is_some_and(|a| a.returned == Returned::Always);
        let keys: Vec<String> = fields.keys().cloned().collect();
        for key in keys {
            if always(&key) {
                continue;
            }
            if rt.extension(&key).is_some() {
                if let Some(Value::Object(ext)) = fields.get_mut(&key) {
                    self.trim(Some(&key), ext);
                    if ext.is_empty() {
                        fields.remove(&key);
                    }
                }
                continue;
            }
            let mut single = Map::new();
            if let Some(v) = fields.remove(&key) {
                single.insert(key.clone(), v);
            }
            self.trim(None, &mut single);
            if let Some(v) = single.remove(&key) {
                fields.insert(key, v);
            }
        }
        Value::Object(fields)
    }

    /// Trims the attributes of one schema (`urn` `None`: the core schema).
    fn trim(&self, urn: Option<&str>, fields: &mut Map<String, Value>) {
        let keys: Vec<String> = fields.keys().cloned().collect();
        for key in keys {
            if let Some(only) = &self.only {
                let matching: Vec<&Name> = only.iter().filter(|n| n.covers(urn, &key)).collect();
                if matching.is_empty() {
                    fields.remove(&key);
                    continue;
                }
                if matching.iter().all(|n| n.sub.is_some()) {
                    let subs: Vec<&str> = matching.iter().filter_map(|n| n.sub.as_deref()).collect();
                    if let Some(v) = fields.get_mut(&key) {
                        keep_subs(v, &subs);
                    }
                }
            }
            for n in self.excluded.iter().filter(|n| n.covers(urn, &key)) {
                match (&n.sub, n.name.is_empty()) {
                    (Some(sub), _) => {
                        if let Some(v) = fields.get_mut(&key) {
                            drop_sub(v, sub);
                        }
                    }
                    (None, _) => {
                        fields.remove(&key);
                    }
                }
            }
        }
    }
}

fn keep_subs(value: &mut Value, subs: &[&str]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|i| keep_subs(i, subs)),
        Value::Object(o) => o.retain(|k, _| subs.iter().any(|s| s.eq_ignore_ascii_case(k))),
        _ => {}
    }
}

fn drop_sub(value: &mut Value, sub: &str) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|i| drop_sub(i, sub)),
        Value::Object(o) => o.retain(|k, _| !k.eq_ignore_ascii_case(sub)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::schema::{GROUPS, USERS};
    use super::*;

    #[test]
    fn client_json_becomes_canonical() {
        let input = json!({
            "schemas": [super::super::schema::USER], "id": "forged", "meta": {"version": "x"},
            "USERNAME": "Ann@Example.com", "Active": "False", "password": "never stored",
            "name": {"GivenName": "Ann", "unknown": 1}, "emails": {"value": "ann@example.com", "primary": "True"},
            "groups": [{"value": "g1"}], "nonsense": 1,
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"Department": "Sales", "manager": {"value": "m1", "displayName": "ro"}},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42"
        });
        let data = canonicalise(&USERS, &input).unwrap();
        assert_eq!(
            Value::Object(data),
            json!({
                "userName": "Ann@Example.com", "active": false, "name": {"givenName": "Ann"},
                "emails": [{"value": "ann@example.com", "primary": true}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "manager": {"value": "m1"}, "employeeNumber": "42"}
            })
        );
    }

    #[test]
    fn wrong_types_are_invalid_values() {
        let e = canonicalise(&USERS, &json!({"userName": 5})).unwrap_err();
        assert_eq!(e.rule(), Some(Invalid::Value));
        assert!(canonicalise(&USERS, &json!({"active": "maybe"})).is_err());
        assert!(canonicalise(&USERS, &json!({"emails": [{"value": "a", "primary": true}, {"value": "b", "primary": true}]})).is_err());
        assert!(canonicalise(&USERS, &json!([1])).is_err());
        assert!(check_resource(&USERS, &canonicalise(&USERS, &json!({"userName": "  "})).unwrap()).is_err());
        assert!(check_resource(&GROUPS, &canonicalise(&GROUPS, &json!({"displayName": "Sales"})).unwrap()).is_ok());
        let too_many = |body: serde_json::Value| check_resource(&USERS, &canonicalise(&USERS, &body).unwrap()).map_err(|e| e.rule());
        assert_eq!(too_many(json!({"userName": "a".repeat(MAX_KEY_BYTES)})), Ok(()));
        assert_eq!(too_many(json!({"userName": "a".repeat(MAX_KEY_BYTES + 1)})), Err(Some(Invalid::TooMany)));
        assert_eq!(too_many(json!({"userName": "a", "externalId": "😀".repeat(MAX_KEY_BYTES / 4 + 1)})), Err(Some(Invalid::TooMany)), "bytes, not characters");
        assert_eq!(too_many(json!({"userName": "a", "title": "t".repeat(MAX_RESOURCE_BYTES)})), Err(Some(Invalid::TooMany)), "a table item holds 400 KB");
        let long_email = format!("{}@example.com", "a".repeat(MAX_EMAIL_BYTES));
        assert_eq!(too_many(json!({"userName": "a", "emails": [{"value": long_email}]})), Err(Some(Invalid::Value)));
    }

    #[test]
    fn a_manager_sent_as_a_bare_id_is_stored_as_its_value() {
        let ent = super::super::schema::ENTERPRISE;
        let data = canonicalise(&USERS, &json!({"userName": "a", ent: {"manager": "26118915-6090-4610-87e4-49d8ca9f808d"}})).unwrap();
        assert_eq!(data[ent], json!({"manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d"}}));
        let flat = canonicalise(&USERS, &json!({"userName": "a", format!("{ent}:manager"): "m1"})).unwrap();
        assert_eq!(flat[ent], json!({"manager": {"value": "m1"}}));
        assert!(canonicalise(&USERS, &json!({"userName": "a", ent: {"manager": ""}})).unwrap().get(ent).is_none(), "an empty id is no manager");
        let e = canonicalise(&USERS, &json!({"userName": "a", "name": "Ann Lee"})).unwrap_err();
        assert_eq!(e.rule(), Some(Invalid::Value), "only an attribute with a `value` takes a bare string");
    }

    #[test]
    fn multi_valued_attributes_are_bounded() {
        let phones = |n: usize| json!({"userName": "a", "phoneNumbers": (0..n).map(|i| json!({"value": format!("+81 {i}")})).collect::<Vec<_>>()});
        assert_eq!(canonicalise(&USERS, &phones(MAX_VALUES)).unwrap()["phoneNumbers"].as_array().unwrap().len(), MAX_VALUES);
        let e = canonicalise(&USERS, &phones(MAX_VALUES + 1)).unwrap_err();
        assert_eq!(e.rule(), Some(Invalid::TooMany));
        assert!(e.to_string().contains(&MAX_VALUES.to_string()), "{e}");
        let members = |n: usize| json!({"displayName": "G", "members": (0..n).map(|i| json!({"value": format!("u{i}")})).collect::<Vec<_>>()});
        assert!(canonicalise(&GROUPS, &members(MAX_VALUES + 1)).is_ok(), "a group holds more members than a user emails");
        assert_eq!(canonicalise(&GROUPS, &members(MAX_MEMBERS + 1)).unwrap_err().rule(), Some(Invalid::TooMany));
    }

    #[test]
    fn projections_keep_always_attributes() {
        let record = Record {
            kind: Kind::User,
            id: "u1".into(),
            version: 3,
            created: timestamp(0),
            last_modified: timestamp(0),
            data: canonicalise(
                &USERS,
                &json!({"userName": "a", "name": {"givenName": "A", "familyName": "B"}, "emails": [{"value": "a@x", "type": "work"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "D"}}),
            )
            .unwrap(),
        };
        let full = record.to_json("https://x/scim/v2");
        assert_eq!(full["meta"]["version"], "W/\"3\"");
        assert_eq!(full["meta"]["location"], "https://x/scim/v2/Users/u1");
        let only = Projection::parse(&USERS, Some("userName,name.givenName,emails.value"), None).apply(&USERS, full.clone());
        assert_eq!(only, json!({"id": "u1", "schemas": full["schemas"], "userName": "a", "name": {"givenName": "A"}, "emails": [{"value": "a@x"}]}));
        let ext = Projection::parse(&USERS, Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"), None).apply(&USERS, full.clone());
        assert_eq!(ext["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], json!({"department": "D"}));
        assert!(ext.get("userName").is_none());
        let excluded = Projection::parse(&USERS, None, Some("emails,name.familyName,meta,id")).apply(&USERS, full);
        assert!(excluded.get("emails").is_none() && excluded.get("meta").is_none() && excluded["id"] == "u1");
        assert_eq!(excluded["name"], json!({"givenName": "A"}));
        let p = Projection::parse(&GROUPS, None, Some("members"));
        assert!(!p.wants("members") && p.wants("displayName"));
        assert!(Projection::parse(&GROUPS, Some("displayName"), None).wants("displayName"));
        assert!(!Projection::parse(&GROUPS, Some("displayName"), None).wants("members"));
    }
}
