//! A connection's client secret, sealed for the next cold start: after a corporate callback reads
//! it from Secrets Manager, the value is sealed (encrypted and signed with the bridge's key,
//! [`flow::seal_private`]) and kept in the organisation's record (`Connection::sealed_secret`).
//! A fresh instance then opens it with the bridge's key, loaded at init, instead of reading
//! Secrets Manager after that key: one serial round trip fewer on the callback's cold path.
//!
//! Not where the secret lives: Secrets Manager stays its home (operators set and replace it
//! through the admin API, which writes it there and never reads it). A sealed copy is used only
//! for the organisation, at the version, and the secret it was sealed for, for at most
//! [`KEPT_FOR`]; every update of the organisation removes it, a copy the provider refuses is
//! dropped (`Corporate::exchanged`), and one that does not open (a new bridge key) means a read
//! of Secrets Manager.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::common::secrets::SecretRef;
use crate::directory::org::{OrgId, Organisation};
use crate::signin::flow::{self, Purpose};

/// How long a sealed copy serves (seconds): a value changed in Secrets Manager directly, not
/// through the admin API, is read again within this long.
pub const KEPT_FOR: u64 = 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct Kept {
    org: OrgId,
    /// The organisation's version it was sealed for: an update of the organisation (a new
    /// version) leaves it unopened, whatever else removes it.
    version: u64,
    secret: SecretRef,
    value: String,
}

/// `value`, secret `secret` of `org`'s connection at its version, sealed with `key` until
/// `now + KEPT_FOR`; `None` if it would be longer than a sealed token may be (a secret of
/// about 5.5 KB or more: it is then read from Secrets Manager each cold start).
pub fn seal(key: &SecretString, org: &Organisation, secret: &SecretRef, value: &SecretString, now: u64) -> Option<String> {
    let kept = Kept { org: org.id.clone(), version: org.version, secret: secret.clone(), value: value.expose_secret().to_owned() };
    flow::seal_private(key, Purpose::ConnectionSecret, now + KEPT_FOR, &kept).ok()
}

/// The value `sealed` holds, if it opens with `key`, has not expired at `now`, and was sealed
/// for `org`'s secret `secret` at its present version.
pub fn open(key: &SecretString, sealed: &str, org: &Organisation, secret: &SecretRef, now: u64) -> Option<SecretString> {
    let kept: Kept = flow::open_private(key, Purpose::ConnectionSecret, sealed, now).ok()?;
    (kept.org == org.id && kept.version == org.version && kept.secret == *secret).then(|| SecretString::from(kept.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::org::OrgPolicies;

    fn key(k: &str) -> SecretString {
        SecretString::from(k.repeat(32))
    }

    fn org(id: &str, version: u64) -> Organisation {
        let id = OrgId::parse(id).unwrap_or_else(|e| panic!("{e}"));
        Organisation { id, name: "Acme".into(), domains: Vec::new(), policies: OrgPolicies::default(), connection: None, version }
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_organisation_version_and_secret_within_its_time_and_key() {
        let (acme, secret) = (org("acme", 2), SecretRef("stack/connections/acme-1".into()));
        let sealed = seal(&key("k"), &acme, &secret, &SecretString::from("s3cr3t"), 100).unwrap_or_else(|| panic!("sealed"));
        assert!(!sealed.contains("s3cr3t"), "encrypted");
        let opened = |k: &str, org: &Organisation, secret: &SecretRef, now: u64| open(&key(k), &sealed, org, secret, now).map(|v| v.expose_secret().to_owned());
        assert_eq!(opened("k", &acme, &secret, 100 + KEPT_FOR - 1).as_deref(), Some("s3cr3t"));
        assert_eq!(opened("k", &acme, &secret, 100 + KEPT_FOR), None, "expired");
        assert_eq!(opened("j", &acme, &secret, 100), None, "another bridge key");
        assert_eq!(opened("k", &org("globex", 2), &secret, 100), None, "copied to another organisation's record");
        assert_eq!(opened("k", &org("acme", 3), &secret, 100), None, "the organisation changed since");
        assert_eq!(opened("k", &acme, &SecretRef("stack/connections/acme-2".into()), 100), None, "a secret since replaced");
        let context = flow::seal_private(&key("k"), Purpose::Context, 200, &serde_json::json!({"org": "acme", "version": 2, "secret": secret, "value": "x"}))
            .unwrap_or_default();
        assert_eq!(open(&key("k"), &context, &acme, &secret, 100).map(|v| v.expose_secret().to_owned()), None, "another purpose's token");
        assert_eq!(seal(&key("k"), &acme, &secret, &SecretString::from("x".repeat(5_600)), 100), None, "too long to keep");
    }
}
