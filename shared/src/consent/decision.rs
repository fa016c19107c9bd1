//! A person's decisions about documents: one [`Decision`] per document version, where it was
//! made ([`Via`]), the decisions a sign-in brings with it ([`Given`]), and which of them change
//! what the person has accepted ([`changes`]).

use serde::{Deserialize, Serialize};

use crate::consent::document::DocumentId;
use crate::consent::mirror::Accepted;

/// Where a decision was made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// Ticked on the sign-up form (recorded at the first sign-in).
    SignUp,
    /// On the consent step of a sign-in.
    #[default]
    SignIn,
    /// On the person's account page (an optional consent given or withdrawn).
    Account,
}

impl Via {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "sign_up",
            Self::SignIn => "sign_in",
            Self::Account => "account",
        }
    }
}

/// One decision about one version of a document: accepted, or (an optional one) declined or
/// withdrawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub document: DocumentId,
    pub version: u32,
    pub accepted: bool,
}

/// Decisions a sign-in brings with it, made before it could record them (at sign-up, before the
/// account existed; on the consent step, before the sign-in went on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Given {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decisions: Vec<Decision>,
    #[serde(default)]
    pub via: Via,
}

impl Given {
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }
}

impl Accepted {
    /// `decision` applied: its version accepted, or the document withdrawn.
    pub fn apply(&mut self, decision: &Decision) {
        if decision.accepted {
            self.accept(&decision.document, decision.version);
        } else {
            self.withdraw(&decision.document);
        }
    }
}

/// The decisions in `given` that change what `accepted` holds: an acceptance of a version later
/// than the one accepted (or of a document not accepted), a withdrawal of one that was.
pub fn changes(accepted: &Accepted, given: &Given) -> Vec<Decision> {
    let changes = |d: &&Decision| match d.accepted {
        true => accepted.version(&d.document).is_none_or(|v| v < d.version),
        false => accepted.version(&d.document).is_some(),
    };
    given.decisions.iter().filter(changes).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn given(decisions: &[(&str, u32, bool)]) -> Given {
        let decisions = decisions
            .iter()
            .map(|(id, version, accepted)| Decision {
                document: DocumentId::parse(id).unwrap_or_else(|e| panic!("{e}")),
                version: *version,
                accepted: *accepted,
            })
            .collect();
        Given { decisions, via: Via::SignIn }
    }

    fn names(d: Vec<Decision>) -> Vec<(String, u32, bool)> {
        d.into_iter().map(|d| (d.document.to_string(), d.version, d.accepted)).collect()
    }

    #[test]
    fn only_changes_are_recorded() {
        let terms = DocumentId::parse("terms").unwrap_or_else(|e| panic!("{e}"));
        let marketing = DocumentId::parse("marketing").unwrap_or_else(|e| panic!("{e}"));
        let mut accepted = Accepted::default();
        accepted.accept(&terms, 2);
        // Terms v2 again, an older version, marketing never given declined: no change.
        assert!(changes(&accepted, &given(&[("terms", 2, true), ("terms", 1, true), ("marketing", 1, false)])).is_empty());
        assert_eq!(
            names(changes(&accepted, &given(&[("marketing", 1, true), ("terms", 3, true)]))),
            [("marketing".into(), 1, true), ("terms".into(), 3, true)]
        );
        accepted.accept(&marketing, 1);
        assert_eq!(names(changes(&accepted, &given(&[("marketing", 2, false)]))), [("marketing".into(), 2, false)], "a withdrawal");
        accepted.apply(&Decision { document: marketing.clone(), version: 2, accepted: false });
        assert_eq!(accepted.version(&marketing), None);
    }
}
