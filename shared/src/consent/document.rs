//! A consent document: one version of the operator's terms, privacy policy or an optional
//! consent (marketing), with a title and a URL per language and whether it must be accepted.
//! Versions count up from 1 per document; the highest published is the current one, which is
//! what people are asked to accept.

use serde::{Deserialize, Serialize};

use crate::common::language::Language;

/// Most documents an operator may publish (each acceptance is two items of one DynamoDB
/// transaction, whose limit is 100).
pub const MAX_DOCUMENTS: usize = 10;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// A document's name: 1 to 32 of `a-z`, `0-9`, `-`, starting with a letter (`terms`,
/// `privacy`, `marketing-email`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentId(String);

impl DocumentId {
    pub fn parse(raw: &str) -> Result<Self, DocumentError> {
        let ok = (1..=32).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok { Ok(Self(raw.to_owned())) } else { Err(DocumentError("a document's name is 1 to 32 of a-z, 0-9 and -, starting with a letter".into())) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for DocumentId {
    type Error = DocumentError;
    fn try_from(raw: String) -> Result<Self, DocumentError> {
        Self::parse(&raw)
    }
}

impl From<DocumentId> for String {
    fn from(id: DocumentId) -> Self {
        id.0
    }
}

impl std::fmt::Display for DocumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a document cannot be published, in words an operator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DocumentError(pub String);

/// A text in each language the form speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    pub ja: String,
    pub en: String,
}

impl Localized {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Ja => &self.ja,
            Language::En => &self.en,
        }
    }
}

/// One published version of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDocument {
    pub id: DocumentId,
    /// 1, 2, ...: each publication is the next.
    pub version: u32,
    /// Whether a person must accept it to reach any app (terms); `false`: a consent they may
    /// give or withdraw (marketing).
    pub required: bool,
    pub title: Localized,
    /// Where the document is read, per language (`https`).
    pub url: Localized,
    /// When it was published (seconds since the epoch).
    pub published: u64,
}

impl ConsentDocument {
    /// Checks the titles (not empty, one line, at most [`MAX_TITLE_CHARS`]) and the URLs
    /// (absolute `https`, or `http` on localhost).
    pub fn validate(&self) -> Result<(), DocumentError> {
        for language in Language::ALL {
            let title = self.title.get(language);
            if title.trim().is_empty() || title.chars().count() > MAX_TITLE_CHARS || title.contains(['\n', '\r']) {
                return Err(DocumentError(format!("the {} title is one line of 1 to {MAX_TITLE_CHARS} characters", language.tag())));
            }
            let url = url::Url::parse(self.url.get(language)).map_err(|_| DocumentError(format!("the {} URL is not a URL", language.tag())))?;
            if !crate::common::secure_url::secure(&url) {
                return Err(DocumentError(format!("the {} URL must be https", language.tag())));
            }
        }
        Ok(())
    }
}

/// A document as a person is shown it: one version, and whether they have accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentView {
    pub id: DocumentId,
    pub version: u32,
    pub required: bool,
    pub title: Localized,
    pub url: Localized,
    /// Whether the person has accepted this version (an optional consent they may withdraw).
    pub accepted: bool,
}

impl DocumentView {
    pub fn of(doc: &ConsentDocument, accepted: bool) -> Self {
        Self { id: doc.id.clone(), version: doc.version, required: doc.required, title: doc.title.clone(), url: doc.url.clone(), accepted }
    }
}

/// The current version of each document: the highest published, in name order.
pub fn current(all: &[ConsentDocument]) -> Vec<ConsentDocument> {
    let mut latest: std::collections::BTreeMap<&DocumentId, &ConsentDocument> = std::collections::BTreeMap::new();
    for doc in all {
        let newer = latest.get(&doc.id).is_none_or(|held| held.version < doc.version);
        if newer {
            latest.insert(&doc.id, doc);
        }
    }
    latest.into_values().cloned().collect()
}

#[cfg(test)]
pub(crate) fn sample(id: &str, version: u32, required: bool) -> ConsentDocument {
    ConsentDocument {
        id: DocumentId::parse(id).unwrap_or_else(|e| panic!("{e}")),
        version,
        required,
        title: Localized { ja: format!("{id} 第{version}版"), en: format!("{id} v{version}") },
        url: Localized { ja: format!("https://example.com/ja/{id}/{version}"), en: format!("https://example.com/en/{id}/{version}") },
        published: 1_700_000_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_short_lower_case_words() {
        for good in ["terms", "privacy", "marketing-email", "t2"] {
            assert!(DocumentId::parse(good).is_ok(), "{good}");
        }
        for bad in ["", "Terms", "2terms", "-x", "terms#2", "a b", &"a".repeat(33), "tërms"] {
            assert!(DocumentId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn titles_and_urls_are_checked() {
        assert!(sample("terms", 1, true).validate().is_ok());
        let mut doc = sample("terms", 1, true);
        doc.url.en = "http://example.com/terms".into();
        assert!(doc.validate().is_err(), "plain http");
        doc.url.en = "javascript:alert(1)".into();
        assert!(doc.validate().is_err());
        let mut doc = sample("terms", 1, true);
        doc.title.ja = " ".into();
        assert!(doc.validate().is_err());
        doc.title.ja = "a\nb".into();
        assert!(doc.validate().is_err());
    }

    #[test]
    fn the_current_version_is_the_highest() {
        let all = [sample("terms", 1, true), sample("privacy", 1, true), sample("terms", 3, true), sample("terms", 2, true)];
        let current = current(&all);
        assert_eq!(current.iter().map(|d| (d.id.as_str(), d.version)).collect::<Vec<_>>(), [("privacy", 1), ("terms", 3)]);
    }
}
