//! What the operators' overview charts: per day (UTC), how many sign-ins, failed sign-ins,
//! high-risk sign-ins, SCIM changes and telephony hook deliveries the identity events record.
//! The workflow runner tallies each stream batch ([`tally`]) and adds it to the day's counters
//! ([`DailyCounts`]); the admin API reads them back. Counting from the stream keeps the sign-in
//! path free of it (no hot counter in its transaction); a batch the stream delivers twice after
//! a crash counts twice, which a chart can bear.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;

use super::{EventType, IdentityEvent};
use crate::common::store::StoreError;

const DAY: u64 = 24 * 3600;

/// One day's counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DayTotals {
    /// `user.signed_in`.
    pub sign_ins: u64,
    /// `user.sign_in_failed`.
    pub failed_sign_ins: u64,
    /// `sign_in.high_risk`.
    pub high_risk: u64,
    /// `user.provisioned`, `user.deactivated`, `user.reactivated`, `user.deleted`.
    pub scim_changes: u64,
    /// `hook.executed`.
    pub hook_deliveries: u64,
    /// `hook.executed` with `detail.outcome` `failed`.
    pub hook_failures: u64,
}

impl DayTotals {
    /// The counters by their stored names, non-zero ones only.
    pub fn named(&self) -> Vec<(&'static str, u64)> {
        let all = [
            ("sign_ins", self.sign_ins),
            ("failed_sign_ins", self.failed_sign_ins),
            ("high_risk", self.high_risk),
            ("scim_changes", self.scim_changes),
            ("hook_deliveries", self.hook_deliveries),
            ("hook_failures", self.hook_failures),
        ];
        all.into_iter().filter(|(_, n)| *n > 0).collect()
    }

    /// From stored names (unknown names ignored).
    pub fn from_named<'a>(counts: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut totals = Self::default();
        for (name, n) in counts {
            match name {
                "sign_ins" => totals.sign_ins = n,
                "failed_sign_ins" => totals.failed_sign_ins = n,
                "high_risk" => totals.high_risk = n,
                "scim_changes" => totals.scim_changes = n,
                "hook_deliveries" => totals.hook_deliveries = n,
                "hook_failures" => totals.hook_failures = n,
                _ => {}
            }
        }
        totals
    }

    fn count(&mut self, event: &IdentityEvent) {
        match event.kind {
            EventType::UserSignedIn => self.sign_ins += 1,
            EventType::UserSignInFailed => self.failed_sign_ins += 1,
            EventType::SignInHighRisk => self.high_risk += 1,
            // A person deleting their own account (`via: account`) is no SCIM change.
            EventType::UserDeleted if event.detail.get("via").and_then(|v| v.as_str()) == Some("account") => {}
            EventType::UserProvisioned | EventType::UserDeactivated | EventType::UserReactivated | EventType::UserDeleted => self.scim_changes += 1,
            EventType::HookExecuted => {
                self.hook_deliveries += 1;
                if event.detail.get("outcome").and_then(|o| o.as_str()) == Some("failed") {
                    self.hook_failures += 1;
                }
            }
            _ => {}
        }
    }
}

/// The events' counts by day (days since the Unix epoch); days with nothing to count are left out.
pub fn tally<'a>(events: impl IntoIterator<Item = &'a IdentityEvent>) -> BTreeMap<u64, DayTotals> {
    let mut days: BTreeMap<u64, DayTotals> = BTreeMap::new();
    for event in events {
        let mut totals = days.get(&(event.at / DAY)).copied().unwrap_or_default();
        totals.count(event);
        if totals != DayTotals::default() {
            days.insert(event.at / DAY, totals);
        }
    }
    days
}

/// The days `to - days + 1 ..= to` (days since the epoch), each with its totals (zero where
/// nothing was counted), oldest first.
pub fn series(stored: &[(u64, DayTotals)], to: u64, days: u64) -> Vec<(u64, DayTotals)> {
    let from = to.saturating_sub(days.saturating_sub(1));
    (from..=to).map(|day| (day, stored.iter().find(|(d, _)| *d == day).map(|(_, t)| *t).unwrap_or_default())).collect()
}

/// The days' counters.
#[async_trait]
pub trait DailyCounts: Send + Sync {
    /// Adds `totals` to each day's counters.
    async fn add(&self, days: &BTreeMap<u64, DayTotals>) -> Result<(), StoreError>;
    /// The stored days `from..=to`, oldest first.
    async fn range(&self, from: u64, to: u64) -> Result<Vec<(u64, DayTotals)>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{EventContext, EventUser};

    fn event(kind: EventType, at: u64) -> IdentityEvent {
        IdentityEvent::new(kind, EventUser::default(), EventContext::default(), at)
    }

    #[test]
    fn events_are_counted_on_their_utc_day_and_others_not_at_all() {
        let events = [
            event(EventType::UserSignedIn, 10),
            event(EventType::UserSignedIn, DAY - 1),
            event(EventType::UserSignInFailed, DAY),
            event(EventType::SignInHighRisk, DAY + 5),
            event(EventType::UserProvisioned, DAY + 6),
            event(EventType::UserDeleted, DAY + 7),
            event(EventType::HookExecuted, 2 * DAY).with_detail("outcome", "delivered"),
            event(EventType::HookExecuted, 2 * DAY).with_detail("outcome", "failed"),
            event(EventType::AdminAppCreated, 3 * DAY),
            event(EventType::UserMfaEnrolled, 3 * DAY),
        ];
        let days = tally(&events);
        assert_eq!(days.keys().copied().collect::<Vec<_>>(), [0, 1, 2], "a day with nothing to count is not written");
        assert_eq!(days[&0], DayTotals { sign_ins: 2, ..DayTotals::default() });
        assert_eq!(days[&1], DayTotals { failed_sign_ins: 1, high_risk: 1, scim_changes: 2, ..DayTotals::default() });
        assert_eq!(days[&2], DayTotals { hook_deliveries: 2, hook_failures: 1, ..DayTotals::default() });
        assert_eq!(DayTotals::from_named(days[&1].named()), days[&1]);
    }

    #[test]
    fn a_series_has_every_day_of_the_range_zero_where_nothing_was_stored() {
        let stored = [(5, DayTotals { sign_ins: 3, ..DayTotals::default() })];
        let series = series(&stored, 6, 3);
        assert_eq!(series.iter().map(|(d, t)| (*d, t.sign_ins)).collect::<Vec<_>>(), [(4, 0), (5, 3), (6, 0)]);
        assert_eq!(super::series(&[], 1, 30).len(), 2, "no day before the epoch");
    }
}
