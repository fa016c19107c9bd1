//! The resource schemas this service speaks (RFC 7643 §4 User and Group, §4.3 the enterprise
//! extension) as data: every other SCIM module asks these definitions what an attribute's type,
//! plurality, mutability and visibility are. Also renders the discovery documents
//! (`/Schemas`, `/ResourceTypes`, `/ServiceProviderConfig`) from the same definitions.

use serde_json::{Value, json};

pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// Most resources one page returns, and the default page size.
pub const MAX_RESULTS: usize = 1000;
pub const DEFAULT_COUNT: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Type {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Default,
    Never,
}

#[derive(Debug, Clone, Copy)]
pub struct Attr {
    pub name: &'static str,
    pub ty: Type,
    pub multi: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    /// `server` uniqueness (enforced by the store).
    pub unique: bool,
    pub sub: &'static [Attr],
}

const fn a(name: &'static str, ty: Type) -> Attr {
    Attr { name, ty, multi: false, required: false, case_exact: false, mutability: Mutability::ReadWrite, returned: Returned::Default, unique: false, sub: &[] }
}
const fn string(name: &'static str) -> Attr {
    a(name, Type::String)
}
const fn complex(name: &'static str, sub: &'static [Attr]) -> Attr {
    Attr { sub, ..a(name, Type::Complex) }
}
const fn multi(attr: Attr) -> Attr {
    Attr { multi: true, ..attr }
}
const fn read_only(attr: Attr) -> Attr {
    Attr { mutability: Mutability::ReadOnly, ..attr }
}

/// `value`, `display`, `type`, `primary`: the sub-attributes of most multi-valued attributes.
const PLURAL: &[Attr] = &[string("value"), string("display"), string("type"), a("primary", Type::Boolean)];
const NAME: &[Attr] =
    &[string("formatted"), string("familyName"), string("givenName"), string("middleName"), string("honorificPrefix"), string("honorificSuffix")];
const ADDRESS: &[Attr] = &[
    string("formatted"),
    string("streetAddress"),
    string("locality"),
    string("region"),
    string("postalCode"),
    string("country"),
    string("type"),
    a("primary", Type::Boolean),
];
const GROUP_REF: &[Attr] = &[read_only(string("value")), read_only(a("$ref", Type::Reference)), read_only(string("display")), read_only(string("type"))];
const MEMBER: &[Attr] = &[
    Attr { mutability: Mutability::Immutable, case_exact: true, ..string("value") },
    Attr { mutability: Mutability::Immutable, ..a("$ref", Type::Reference) },
    string("display"),
    Attr { mutability: Mutability::Immutable, ..string("type") },
];
const MANAGER: &[Attr] = &[string("value"), a("$ref", Type::Reference), read_only(string("displayName"))];

pub const ID: Attr = Attr { case_exact: true, returned: Returned::Always, ..read_only(string("id")) };
pub const EXTERNAL_ID: Attr = Attr { case_exact: true, ..string("externalId") };

pub const USER_ATTRS: &[Attr] = &[
    ID,
    EXTERNAL_ID,
    Attr { required: true, unique: true, ..string("userName") },
    complex("name", NAME),
    string("displayName"),
    string("nickName"),
    a("profileUrl", Type::Reference),
    string("title"),
    string("userType"),
    string("preferredLanguage"),
    string("locale"),
    string("timezone"),
    a("active", Type::Boolean),
    Attr { mutability: Mutability::WriteOnly, returned: Returned::Never, ..string("password") },
    multi(complex("emails", PLURAL)),
    multi(complex("phoneNumbers", PLURAL)),
    multi(complex("ims", PLURAL)),
    multi(complex("photos", PLURAL)),
    multi(complex("addresses", ADDRESS)),
    read_only(multi(complex("groups", GROUP_REF))),
    multi(complex("entitlements", PLURAL)),
    multi(complex("roles", PLURAL)),
    multi(complex("x509Certificates", PLURAL)),
];

pub const ENTERPRISE_ATTRS: &[Attr] =
    &[string("employeeNumber"), string("costCenter"), string("organization"), string("division"), string("department"), complex("manager", MANAGER)];

pub const GROUP_ATTRS: &[Attr] = &[ID, EXTERNAL_ID, Attr { required: true, unique: true, ..string("displayName") }, multi(complex("members", MEMBER))];

/// A resource type: its core schema and attributes and its extensions.
#[derive(Debug)]
pub struct ResourceType {
    pub name: &'static str,
    pub endpoint: &'static str,
    pub schema: &'static str,
    pub attrs: &'static [Attr],
    pub extensions: &'static [(&'static str, &'static [Attr])],
}

pub const USERS: ResourceType =
    ResourceType { name: "User", endpoint: "Users", schema: USER, attrs: USER_ATTRS, extensions: &[(ENTERPRISE, ENTERPRISE_ATTRS)] };
pub const GROUPS: ResourceType = ResourceType { name: "Group", endpoint: "Groups", schema: GROUP, attrs: GROUP_ATTRS, extensions: &[] };

impl ResourceType {
    /// The core attribute called `name` (any case).
    pub fn attr(&self, name: &str) -> Option<&'static Attr> {
        find(self.attrs, name)
    }

    /// The extension whose URN is `urn` (any case), with its attributes.
    pub fn extension(&self, urn: &str) -> Option<(&'static str, &'static [Attr])> {
        self.extensions.iter().copied().find(|(u, _)| u.eq_ignore_ascii_case(urn))
    }

    pub fn is_core(&self, urn: &str) -> bool {
        self.schema.eq_ignore_ascii_case(urn)
    }
}

pub fn find(attrs: &'static [Attr], name: &str) -> Option<&'static Attr> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::String => "string",
        Type::Boolean => "boolean",
        Type::Decimal => "decimal",
        Type::Integer => "integer",
        Type::DateTime => "dateTime",
        Type::Reference => "reference",
        Type::Complex => "complex",
    }
}

fn attr_json(attr: &Attr) -> Value {
    let mut out = json!({
        "name": attr.name,
        "type": type_name(attr.ty),
        "multiValued": attr.multi,
        "required": attr.required,
        "caseExact": attr.case_exact,
        "mutability": match attr.mutability {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        },
        "returned": match attr.returned {
            Returned::Always => "always",
            Returned::Default => "default",
            Returned::Never => "never",
        },
        "uniqueness": if attr.unique { "server" } else { "none" },
    });
    if attr.ty == Type::Complex {
        out["subAttributes"] = attr.sub.iter().map(attr_json).collect();
    }
    if attr.ty == Type::Reference {
        out["referenceTypes"] = json!(if attr.name == "$ref" { vec!["User", "Group"] } else { vec!["external"] });
    }
    out
}

fn schema_json(id: &str, name: &str, attrs: &[Attr], base: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": id,
        "name": name,
        "description": format!("{name} resource"),
        "attributes": attrs.iter().filter(|a| a.name != "id").map(attr_json).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
    })
}

/// Every schema, as `/Schemas` lists them.
pub fn schemas(base: &str) -> Vec<Value> {
    vec![
        schema_json(USER, "User", USER_ATTRS, base),
        schema_json(ENTERPRISE, "EnterpriseUser", ENTERPRISE_ATTRS, base),
        schema_json(GROUP, "Group", GROUP_ATTRS, base),
    ]
}

pub fn resource_types(base: &str) -> Vec<Value> {
    [&USERS, &GROUPS]
        .iter()
        .map(|t| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": t.name,
                "name": t.name,
                "endpoint": format!("/{}", t.endpoint),
                "description": format!("{} resources", t.name),
                "schema": t.schema,
                "schemaExtensions": t.extensions.iter().map(|(u, _)| json!({"schema": u, "required": false})).collect::<Vec<_>>(),
                "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{}", t.name)}
            })
        })
        .collect()
}

pub fn service_provider_config(base: &str, docs: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": docs,
        "patch": {"supported": true},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": false},
        "sort": {"supported": true},
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "A SCIM token issued to the organisation by the bridge's operator",
            "primary": true
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": format!("{base}/ServiceProviderConfig")}
    })
}
