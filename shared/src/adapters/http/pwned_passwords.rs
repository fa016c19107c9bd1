//! [`PasswordBreaches`] over Have I Been Pwned's Pwned Passwords range API
//! (`GET {base}/range/{prefix}`, <https://haveibeenpwned.com/API/v3#PwnedPasswords>): no key,
//! the `Add-Padding: true` header (the answer's size does not tell the prefix's count), an
//! answer read up to [`MAX_RANGE`] bytes, and the whole call over within [`TIMEOUT`] (the
//! check is open on failure: `signin::breached_passwords`).

use async_trait::async_trait;
use std::time::Duration;

use crate::signin::ports::PasswordBreaches;

/// The longest a check may add to a password change (the person is waiting).
pub const TIMEOUT: Duration = Duration::from_millis(1500);
/// The most of an answer read (a padded range is about 40 KB).
pub const MAX_RANGE: usize = 256 * 1024;

pub struct PwnedPasswords {
    http: reqwest::Client,
    base: reqwest::Url,
}

impl PwnedPasswords {
    /// The range API at `base` (`https://api.pwnedpasswords.com`, or a mirror of it), over `http`.
    pub fn new(http: reqwest::Client, base: reqwest::Url) -> Self {
        Self { http, base }
    }
}

#[async_trait]
impl PasswordBreaches for PwnedPasswords {
    async fn range(&self, prefix: &str) -> Result<String, String> {
        let url = format!("{}/range/{prefix}", self.base.as_str().trim_end_matches('/'));
        let url = super::callable(&url).ok_or("the range API's address is not one the bridge calls")?;
        let sent = self.http.get(url).header("Add-Padding", "true").header("User-Agent", "identity-bridge").timeout(TIMEOUT).send().await;
        // Never the URL in a log: its path holds the prefix.
        let response = sent.map_err(|e| format!("the range API did not answer: {}", e.without_url()))?;
        if !response.status().is_success() {
            return Err(format!("the range API answered HTTP {}", response.status().as_u16()));
        }
        match super::body_within(response, MAX_RANGE).await {
            Ok((body, true)) => Ok(String::from_utf8_lossy(&body).into_owned()),
            Ok((_, false)) => Err("the range API's answer is too long".into()),
            Err(e) => Err(format!("the range API's answer could not be read: {}", e.without_url())),
        }
    }
}
