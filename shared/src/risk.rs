//! Risky sign-ins: what is new or unusual about a sign-in compared with the person's earlier
//! ones, and what an app's policy does about a high-risk one. Pure: the profile is read and
//! written by the session store (it lives on the person's last-sign-in item) and failures are
//! counted by [`crate::risk::RiskStore`].
//!
//! Signals: a device the person has not signed in from (the `__Host-bridge_device` cookie, kept as a
//! digest), a network (IPv4 /24, IPv6 /48) or country not seen before, recent failed password
//! attempts for the address, and velocity (many sign-ins in a few minutes). A sign-in is high
//! risk when any signal other than a new network is present (networks change with every mobile
//! hand-over). A person's first sign-in sets the baseline and is never high risk.

use crate::common::store::StoreError;
use async_trait::async_trait;

use serde::{Deserialize, Serialize};

/// Failed attempts are counted over this window (two buckets of it)...
pub const FAILURE_WINDOW: u64 = 15 * 60;
/// ...and this many make a sign-in high risk.
pub const FAILURE_LIMIT: u64 = 3;
/// More than this many sign-ins within `VELOCITY_WINDOW` is velocity.
pub const VELOCITY_LIMIT: usize = 10;
pub const VELOCITY_WINDOW: u64 = 10 * 60;
/// How many devices, networks and countries a profile remembers (the most recent).
pub const REMEMBERED: usize = 10;

/// What an app does with a high-risk sign-in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskPolicy {
    /// Let it through and record `sign_in.high_risk`.
    #[default]
    Allow,
    /// Only with a second factor in this sign-in (a password sign-in without one sets one up;
    /// a corporate sign-in needs its provider's `amr` to report one).
    RequireMfa,
    /// Refuse it (`sign_in_denied`), recording `sign_in.high_risk`.
    Deny,
}

impl RiskPolicy {
    /// Whether the app takes a sign-in (or a session opened by one) assessed at `assurance`.
    pub fn admits(self, assurance: Assurance) -> bool {
        match self {
            Self::Allow => true,
            Self::RequireMfa => !assurance.high_risk || assurance.second_factor,
            Self::Deny => !assurance.high_risk,
        }
    }
}

/// What a sign-in proved, kept with the session it opens: an app entered from the session
/// applies its own policy to this, never to nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assurance {
    /// The sign-in was assessed high risk.
    pub high_risk: bool,
    /// It answered a second factor (a corporate sign-in: its provider's factors).
    pub second_factor: bool,
}

impl Assurance {
    /// What a session that predates assurance is taken to have proved: nothing.
    pub fn unknown() -> Self {
        Self { high_risk: true, second_factor: false }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    NewDevice,
    NewNetwork,
    NewCountry,
    RecentFailures,
    Velocity,
}

/// Where a sign-in comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visit {
    /// The digest of the device cookie.
    pub device: Option<String>,
    pub network: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    value: String,
    at: u64,
}

/// What the bridge remembers of a person's sign-ins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskProfile {
    #[serde(default)]
    devices: Vec<Seen>,
    #[serde(default)]
    networks: Vec<Seen>,
    #[serde(default)]
    countries: Vec<Seen>,
    /// Recent sign-in times (the last `VELOCITY_LIMIT + 1`).
    #[serde(default)]
    sign_ins: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub signals: Vec<Signal>,
    pub high: bool,
}

impl RiskProfile {
    /// Whether the device `digest` names is one the profile knows.
    pub fn knows_device(&self, digest: &str) -> bool {
        self.devices.iter().any(|s| s.value == digest)
    }

    /// How `visit` compares with the profile, with `failures` recent failed attempts.
    pub fn assess(&self, visit: &Visit, failures: u64, now: u64) -> Assessment {
        let mut signals = Vec::new();
        let first = self.sign_ins.is_empty();
        // A device or country we cannot see (no device cookie, no country header) is never a
        // known one: missing is as new as never seen. A network is new only when seen (API
        // Gateway always gives the address, and a new network alone is not high risk).
        let new = |list: &[Seen], value: &Option<String>| value.as_ref().is_none_or(|v| !list.iter().any(|s| &s.value == v));
        if !first && new(&self.devices, &visit.device) {
            signals.push(Signal::NewDevice);
        }
        if !first && visit.network.is_some() && new(&self.networks, &visit.network) {
            signals.push(Signal::NewNetwork);
        }
        if !first && !self.countries.is_empty() && new(&self.countries, &visit.country) {
            signals.push(Signal::NewCountry);
        }
        if failures >= FAILURE_LIMIT {
            signals.push(Signal::RecentFailures);
        }
        if self.sign_ins.iter().filter(|t| now.saturating_sub(**t) < VELOCITY_WINDOW).count() >= VELOCITY_LIMIT {
            signals.push(Signal::Velocity);
        }
        let high = signals.iter().any(|s| *s != Signal::NewNetwork);
        Assessment { signals, high }
    }

    /// The profile after a sign-in from `visit` at `now`. `trusted`: the sign-in was low risk,
    /// or proved itself with a second factor. Only a trusted sign-in teaches the profile its
    /// device, network and country; one let through at high risk (an `allow` app) does not, so
    /// the next sign-in from that browser is as risky as this one was.
    pub fn signed_in(mut self, visit: &Visit, trusted: bool, now: u64) -> Self {
        let seen = [(&mut self.devices, &visit.device), (&mut self.networks, &visit.network), (&mut self.countries, &visit.country)];
        for (list, value) in seen.into_iter().filter(|_| trusted) {
            if let Some(value) = value {
                list.retain(|s| &s.value != value);
                list.push(Seen { value: value.clone(), at: now });
                let excess = list.len().saturating_sub(REMEMBERED);
                list.drain(..excess);
            }
        }
        self.sign_ins.push(now);
        let excess = self.sign_ins.len().saturating_sub(VELOCITY_LIMIT + 1);
        self.sign_ins.drain(..excess);
        self
    }
}

/// The network an address belongs to: its IPv4 /24 or IPv6 /48.
pub fn network_of(ip: &str) -> Option<String> {
    match ip.parse::<std::net::IpAddr>().ok()? {
        std::net::IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
        }
    }
}

/// What risk assessment reads and counts (`risk`).
#[async_trait]
pub trait RiskStore: Send + Sync {
    /// The person's risk profile and the failed attempts for `email` in the last two windows.
    /// The profile is kept by the person's verified email when they have one, else by username.
    async fn history(&self, username: &str, email: Option<&str>, now: u64) -> Result<(RiskProfile, u64), StoreError>;
    /// What is known of a sign-in email before anyone has authenticated with it: the profile
    /// kept for it (`None` when none is, e.g. a person who signed in only before profiles were
    /// kept by email) and its failed attempts. Read beside the password check; it is used only
    /// when the authenticated person's verified email is this one.
    async fn history_of_email(&self, email: &str, now: u64) -> Result<(Option<RiskProfile>, u64), StoreError>;
    /// Counts a failed password attempt for `email`.
    async fn failed(&self, email: &str, now: u64) -> Result<(), StoreError>;
    /// Moves the profile kept for `from` to `to` (an email change: the person's known browsers,
    /// networks and countries follow them, and the new address's first sign-in is compared with
    /// them rather than taken as a baseline; whoever holds the old address next inherits none of
    /// it); nothing when `from` has none. It replaces what `to` had (a deleted account's).
    async fn carry(&self, from: &str, to: &str) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visit(device: &str, ip: &str, country: &str) -> Visit {
        Visit { device: Some(device.into()), network: network_of(ip), country: Some(country.into()) }
    }

    #[test]
    fn the_first_sign_in_is_the_baseline_and_later_ones_are_compared_with_it() {
        let home = visit("d1", "203.0.113.7", "JP");
        let profile = RiskProfile::default();
        assert_eq!(profile.assess(&home, 0, 100), Assessment { signals: vec![], high: false });
        let profile = profile.signed_in(&home, true, 100);
        assert!(!profile.assess(&visit("d1", "203.0.113.99", "JP"), 0, 200).high, "same /24");
        let mobile = profile.assess(&visit("d1", "198.51.100.1", "JP"), 0, 200);
        assert_eq!(mobile, Assessment { signals: vec![Signal::NewNetwork], high: false }, "a new network alone is not high risk");
        let abroad = profile.assess(&visit("d2", "198.51.100.1", "FR"), 0, 200);
        assert_eq!(abroad.signals, [Signal::NewDevice, Signal::NewNetwork, Signal::NewCountry]);
        assert!(abroad.high);
        assert!(profile.assess(&home, FAILURE_LIMIT, 200).high, "recent failures");
    }

    #[test]
    fn velocity_and_memory_are_bounded() {
        let home = visit("d1", "203.0.113.7", "JP");
        let mut profile = RiskProfile::default();
        for i in 0..VELOCITY_LIMIT as u64 {
            profile = profile.signed_in(&home, true, 1000 + i);
        }
        assert_eq!(profile.assess(&home, 0, 1100).signals, [Signal::Velocity]);
        assert!(profile.assess(&home, 0, 1000 + VELOCITY_WINDOW + 20).signals.is_empty());
        for i in 0..30 {
            profile = profile.signed_in(&visit(&format!("d{i}"), "203.0.113.7", "JP"), true, 5000 + i);
        }
        assert_eq!((profile.devices.len(), profile.sign_ins.len()), (REMEMBERED, VELOCITY_LIMIT + 1));
        assert!(profile.assess(&visit("d0", "203.0.113.7", "JP"), 0, 9000).signals.contains(&Signal::NewDevice), "the oldest device is forgotten");
    }

    #[test]
    fn what_cannot_be_seen_is_never_known_and_a_risky_sign_in_teaches_nothing() {
        let home = visit("d1", "203.0.113.7", "JP");
        let profile = RiskProfile::default().signed_in(&home, true, 100);
        let blind = Visit { device: None, network: None, country: None };
        let seen = profile.assess(&blind, 0, 200);
        assert_eq!(seen.signals, [Signal::NewDevice, Signal::NewCountry]);
        assert!(seen.high, "no device cookie, no country: high risk");
        let stranger = visit("d2", "198.51.100.1", "FR");
        let after = profile.clone().signed_in(&stranger, false, 300);
        assert!(after.assess(&stranger, 0, 400).high, "an untrusted sign-in does not make its browser known");
        assert!(!after.assess(&home, 0, 400).high);
        assert!(!profile.signed_in(&stranger, true, 300).assess(&stranger, 0, 400).high, "a trusted one does");
    }

    #[test]
    fn networks_are_prefixes() {
        assert_eq!(network_of("203.0.113.7").as_deref(), Some("203.0.113.0/24"));
        assert_eq!(network_of("2001:db8:1234:5678::1").as_deref(), Some("2001:db8:1234::/48"));
        assert_eq!(network_of("not an ip"), None);
    }
}
