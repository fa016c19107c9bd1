//! The identity events a SCIM user change causes (`user.provisioned`, `user.deactivated`,
//! `user.reactivated`, `user.deleted`), recorded in the change's own transaction. Groups and
//! attribute-only changes cause none.
//!
//! An event's id is the user's id and the version the change writes, so a transaction retried
//! after a lost race (a new version) is a new event, and one change is never two events.

use serde_json::Value;

use super::directory_user::Link;
use super::resource::{Kind, Record};
use crate::directory::org::Organisation;
use crate::directory::ports::Deletion;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};

/// What a change of one resource from `before` to `after` (`None`: absent) records.
/// `deletion` is set for a DELETE; `version` is the version the change writes. The user's email
/// is given only when it is in the organisation's domains: a directory may write any address,
/// and a workflow acting on `user.email` must not reach another organisation's person by it.
pub fn change_event(
    org: &Organisation,
    before: Option<&Record>,
    after: Option<&Record>,
    link: &Link,
    deletion: Option<Deletion>,
    version: u64,
    now: u64,
) -> Option<IdentityEvent> {
    let record = after.or(before).filter(|r| r.kind == Kind::User)?;
    let kind = match (before, after, deletion) {
        (_, _, Some(_)) => EventType::UserDeleted,
        (None, Some(_), None) => EventType::UserProvisioned,
        (Some(b), Some(a), None) if b.active() && !a.active() => EventType::UserDeactivated,
        (Some(b), Some(a), None) if !b.active() && a.active() => EventType::UserReactivated,
        _ => return None,
    };
    let name = record.data.get("name");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let user = EventUser {
        username: link.username.clone(),
        email: record.primary_email().filter(|e| super::sync::in_domains(org, e)).map(|e| e.to_lowercase()),
        given_name: text(name.and_then(|n| n.get("givenName"))),
        family_name: text(name.and_then(|n| n.get("familyName"))),
        locale: text(record.data.get("locale")),
        org: Some(org.id.to_string()),
        ..EventUser::default()
    };
    let context = EventContext { method: Some("scim".into()), ..EventContext::default() };
    let mut event = IdentityEvent { id: format!("scim-{}-{}-{version}", org.id, record.id), ..IdentityEvent::new(kind, user, context, now) };
    event.detail.insert("scim_id".into(), record.id.clone().into());
    event.detail.insert("active".into(), after.is_some_and(Record::active).into());
    if let Some(ext) = record.external_id() {
        event.detail.insert("external_id".into(), ext.into());
    }
    if let Some(how) = deletion {
        event.detail.insert("directory".into(), (if matches!(how, Deletion::Purge) { "deleted" } else { "disabled" }).into());
    }
    Some(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user(active: bool) -> Record {
        let data = json!({"userName": "ann@acme.test", "active": active, "externalId": "e-1", "name": {"givenName": "Ann"},
                          "emails": [{"value": "Ann@Acme.test", "primary": true}]});
        Record {
            kind: Kind::User,
            id: "u-1".into(),
            version: 1,
            created: String::new(),
            last_modified: String::new(),
            data: serde_json::from_value(data).unwrap_or_default(),
        }
    }

    fn acme() -> Organisation {
        Organisation {
            id: crate::directory::org::OrgId::parse("acme").unwrap_or_else(|e| panic!("{e}")),
            name: "Acme".into(),
            domains: vec![crate::directory::org::EmailDomain::parse("acme.test").unwrap_or_else(|e| panic!("{e}"))],
            policies: crate::directory::org::OrgPolicies::default(),
            connection: None,
            version: 1,
        }
    }

    fn kind_of(before: Option<&Record>, after: Option<&Record>, deletion: Option<Deletion>) -> Option<EventType> {
        change_event(&acme(), before, after, &Link::default(), deletion, 2, 10).map(|e| e.kind)
    }

    #[test]
    fn each_user_change_has_its_event_and_attribute_changes_have_none() {
        let (on, off) = (user(true), user(false));
        assert_eq!(kind_of(None, Some(&on), None), Some(EventType::UserProvisioned));
        assert_eq!(kind_of(Some(&on), Some(&off), None), Some(EventType::UserDeactivated));
        assert_eq!(kind_of(Some(&off), Some(&on), None), Some(EventType::UserReactivated));
        assert_eq!(kind_of(Some(&on), Some(&on), None), None);
        assert_eq!(kind_of(Some(&on), None, Some(Deletion::Purge)), Some(EventType::UserDeleted));
        let group = Record { kind: Kind::Group, ..on.clone() };
        assert_eq!(kind_of(None, Some(&group), None), None);
    }

    #[test]
    fn the_event_names_the_person_the_organisation_and_the_change() {
        let event = change_event(&acme(), Some(&user(true)), None, &Link::default(), Some(Deletion::Deactivate), 2, 10).unwrap_or_else(|| panic!("no event"));
        assert_eq!(event.id, "scim-acme-u-1-2");
        let v = event.to_value();
        assert_eq!(v["user"]["email"], "ann@acme.test");
        assert_eq!(v["user"]["org"], "acme");
        assert_eq!(v["detail"], json!({"scim_id": "u-1", "active": false, "external_id": "e-1", "directory": "disabled"}));
        // An address outside the organisation's domains (another organisation's person's, say)
        // is not given: a workflow acting on `user.email` cannot reach that person by it.
        let mut outside = user(true);
        outside.data.insert("emails".into(), json!([{"value": "victim@other.test", "primary": true}]));
        let event = change_event(&acme(), None, Some(&outside), &Link::default(), None, 1, 10).unwrap_or_else(|| panic!("no event"));
        assert_eq!(event.user.email, None);
    }
}
