//! A connection's client secret, sealed for the next cold start: after a corporate callback reads
//! it from Secrets Manager, the value is sealed (encrypted and signed with the bridge's key,
//! [`flow::seal_private`]) and kept in the organisation's record (`Connection::sealed_secret`).
//! A fresh instance then opens it with the bridge's key, loaded at init, instead of reading
//! Secrets Manager after that key: one serial round trip fewer on the callback's cold path.
//!
//! Not where the secret lives: Secrets Manager stays its home (operators set and replace it
//! through the admin API, which writes it there and never reads it). A sealed copy is used only
//! for the organisation and the secret it was sealed for, for at most [`KEPT_FOR`]; any change
//! of the organisation drops it, and one that does not open (a new bridge key) is read again.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::common::secrets::SecretRef;
use crate::directory::org::OrgId;
use crate::signin::flow::{self, Purpose};

/// How long a sealed copy serves (seconds): a value changed in Secrets Manager directly, not
/// through the admin API, is read again within this long.
pub const KEPT_FOR: u64 = 24 * 60 * 60;

#[derive(Serialize, Deserialize)]
struct Kept {
    org: OrgId,
    secret: SecretRef,
    value: String,
}

/// `value`, secret `secret` of organisation `org`'s connection, sealed with `key` until
/// `now + KEPT_FOR`.
pub fn seal(key: &SecretString, org: &OrgId, secret: &SecretRef, value: &SecretString, now: u64) -> String {
    let kept = Kept { org: org.clone(), secret: secret.clone(), value: value.expose_secret().to_owned() };
    flow::seal_private(key, Purpose::ConnectionSecret, now + KEPT_FOR, &kept)
}

/// The value `sealed` holds, if it opens with `key`, has not expired at `now`, and was sealed
/// for organisation `org`'s secret `secret`.
pub fn open(key: &SecretString, sealed: &str, org: &OrgId, secret: &SecretRef, now: u64) -> Option<SecretString> {
    let kept: Kept = flow::open_private(key, Purpose::ConnectionSecret, sealed, now).ok()?;
    (kept.org == *org && kept.secret == *secret).then(|| SecretString::from(kept.value))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> SecretString {
        SecretString::from(k.repeat(32))
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_organisation_and_secret_within_its_time_and_key() {
        let (org, other) = (OrgId::parse("acme").unwrap_or_else(|e| panic!("{e}")), OrgId::parse("globex").unwrap_or_else(|e| panic!("{e}")));
        let secret = SecretRef("stack/connections/acme-1".into());
        let sealed = seal(&key("k"), &org, &secret, &SecretString::from("s3cr3t"), 100);
        assert!(!sealed.contains("s3cr3t"), "encrypted");
        let opened = |k: &str, org: &OrgId, secret: &SecretRef, now: u64| open(&key(k), &sealed, org, secret, now).map(|v| v.expose_secret().to_owned());
        assert_eq!(opened("k", &org, &secret, 100 + KEPT_FOR - 1).as_deref(), Some("s3cr3t"));
        assert_eq!(opened("k", &org, &secret, 100 + KEPT_FOR), None, "expired");
        assert_eq!(opened("j", &org, &secret, 100), None, "another bridge key");
        assert_eq!(opened("k", &other, &secret, 100), None, "copied to another organisation's record");
        assert_eq!(opened("k", &org, &SecretRef("stack/connections/acme-2".into()), 100), None, "a secret since replaced");
        let context = flow::seal_private(&key("k"), Purpose::Context, 200, &serde_json::json!({"org": "acme", "secret": secret, "value": "x"}));
        assert_eq!(open(&key("k"), &context, &org, &secret, 100).map(|v| v.expose_secret().to_owned()), None, "another purpose's token");
    }
}
