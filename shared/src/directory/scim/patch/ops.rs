//! What a PATCH request asks for: its [`Operation`]s and the [`MemberChange`]s that a group's
//! member operations come to. Types only: parsing a body is `patch::parse`, applying it
//! `patch::apply`.

use serde_json::Value;

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
