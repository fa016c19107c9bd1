//! Inactive people: the `user.inactive` events the daily schedule records for flows that react
//! to inactivity. A flow with trigger `user.inactive` names its `inactive_days`; the schedule
//! finds the people whose last sign-in crossed that many days since its previous scan and
//! records one event each, with `detail.inactive_days` (so each flow sees only its own
//! threshold) and `detail.last_sign_in`.
//!
//! An event's id is the threshold, the person and their last sign-in: one event per person per
//! stretch of inactivity, however often the schedule runs; a person who signs in again and
//! lapses again gets a new one.

use crate::common::store::StoreError;
use async_trait::async_trait;
use std::collections::BTreeSet;

use super::flow::Flow;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};

pub const DAY: u64 = 24 * 3600;

/// A person's last sign-in, as the bridge keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastSignIn {
    pub username: String,
    pub sub: String,
    pub email: Option<String>,
    pub at: u64,
}

/// The inactivity thresholds (days) of the enabled flows.
pub fn thresholds(flows: &[Flow]) -> BTreeSet<u32> {
    flows.iter().filter(|f| f.enabled && f.trigger == EventType::UserInactive).filter_map(|f| f.inactive_days).collect()
}

/// The last sign-in before which a person is `days` inactive at `now`.
pub fn cutoff(days: u32, now: u64) -> u64 {
    now.saturating_sub(u64::from(days) * DAY)
}

pub fn inactive_event(person: &LastSignIn, days: u32, now: u64) -> IdentityEvent {
    let user = EventUser { sub: person.sub.clone(), username: Some(person.username.clone()), email: person.email.clone(), ..EventUser::default() };
    let event = IdentityEvent::new(EventType::UserInactive, user, EventContext::default(), now);
    IdentityEvent { id: format!("inactive-{days}-{}-{}", person.username, person.at), ..event }
        .with_detail("inactive_days", days)
        .with_detail("last_sign_in", person.at)
}

/// People's last sign-ins (for the inactive-user schedule).
#[async_trait]
pub trait SignInActivity: Send + Sync {
    async fn signed_in(&self, person: &LastSignIn) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn one_event_per_person_and_stretch_and_only_for_the_flows_threshold() {
        let flow = |id: &str, days: Option<u32>, enabled: bool| {
            let mut v = json!({"id": id, "name": id, "trigger": "user.inactive", "enabled": enabled,
                               "steps": [{"id": "s", "connector": "cognito", "action": "disable_user", "username": "{{user.username}}"}]});
            if let Some(d) = days {
                v["inactive_days"] = d.into();
            }
            serde_json::from_value::<Flow>(v).unwrap_or_else(|e| panic!("{e}"))
        };
        let flows = [flow("a", Some(90), true), flow("b", Some(365), true), flow("c", Some(30), false), flow("d", Some(90), true)];
        assert_eq!(thresholds(&flows).into_iter().collect::<Vec<_>>(), [90, 365]);
        assert!(flow("x", None, true).validate().is_err(), "an inactivity flow names its threshold");

        let person = LastSignIn { username: "u-1".into(), sub: "s-1".into(), email: Some("a@b.test".into()), at: 1000 };
        let event = inactive_event(&person, 90, 1000 + 91 * DAY);
        assert_eq!(event.id, "inactive-90-u-1-1000");
        assert!(flows[0].applies_to(event.kind, &event.to_value()));
        assert!(!flows[1].applies_to(event.kind, &event.to_value()), "the 365-day flow waits for its own threshold");
        assert_eq!(cutoff(90, 100 * DAY), 10 * DAY);
    }
}
