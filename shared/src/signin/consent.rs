//! Consent at sign-in: before any token is minted, a person must have accepted the current
//! version of every required document (`consent`). The check reads the mirror their claims
//! carry (`custom:consents`), so it costs no call for a person who has accepted; only when the
//! mirror lacks something are their records read (the truth), and the mirror written again.
//!
//! A person who has not accepted is shown the consent step ([`ConsentAsked`]): the documents,
//! and a sealed flow that resumes the sign-in where it stopped (a password sign-in with the
//! person's Cognito tokens carried encrypted, a corporate one with its organisation and
//! account). Declining a required document ends the sign-in (`consent_required`). Decisions
//! (at sign-up, or on the step) are recorded with a `user.consent_given` event each, in one
//! transaction, before the sign-in goes on.
//!
//! A live session whose person has not accepted is not enough for an app: `/sso/{app}` sends
//! them to the form, whose sign-in asks (`signin::entry`).

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::consent::document::{ConsentDocument, DocumentId, DocumentView};
use crate::consent::mirror::{ATTRIBUTE, Accepted};
use crate::consent::ports::ConsentRecord;
use crate::directory::org::OrgId;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::signin::flow::{self, FlowError, Purpose, SignInContext};
use crate::signin::service::{CHALLENGE_TTL, ConsentAsked, SignInError, SignInPorts};
use crate::signin::session::{ProviderLogout, Session};

/// Where a decision was made (`ConsentRecord::via`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    SignUp,
    #[default]
    SignIn,
}

/// One decision about one version of a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub document: DocumentId,
    pub version: u32,
    pub accepted: bool,
}

/// Decisions a sign-in brings with it (from sign-up, or the consent step), recorded by the
/// sign-in once the person is known.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Given {
    pub decisions: Vec<Decision>,
    pub via: Via,
}

/// A document on the step: the version shown, whether it is required, whether it was accepted.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Shown {
    pub(super) id: DocumentId,
    pub(super) version: u32,
    pub(super) required: bool,
    pub(super) accepted: bool,
}

/// The paused sign-in, sealed into the step's flow.
#[derive(Serialize, Deserialize)]
pub(super) struct ConsentState {
    pub(super) ctx: SignInContext,
    pub(super) shown: Vec<Shown>,
    /// [`Resume`] as JSON, encrypted (`flow::encrypt`): it may hold the person's tokens.
    pub(super) resume: String,
}

/// How a paused sign-in goes on.
#[derive(Serialize, Deserialize)]
pub(super) enum Resume {
    /// A password sign-in: the person's Cognito tokens.
    Password { id_token: String, access_token: String, second_factor: bool },
    /// A corporate sign-in: the account is read again when it goes on.
    Corporate { org: OrgId, username: String, provider_logout: Option<ProviderLogout>, second_factor: bool },
}

impl SignInPorts {
    /// The key the mirror's tag is made with (derived from the flow key, never the flow key).
    async fn mirror_key(&self) -> Result<[u8; 32], SignInError> {
        let key = self.secrets.bridge().await?;
        Ok(crate::common::hashing::hmac_sha256(key.flow_key.expose_secret().as_bytes(), &[b"consent mirror"]))
    }

    /// Before any mint: records what `given` decides (with its events) and returns the
    /// consent step when a required document's current version is still not accepted. The
    /// session's claims get the mirror as it now is. `resume`: how the sign-in goes on after
    /// the step. No call when the mirror shows everything accepted and nothing is given.
    pub(super) async fn consent_gate(
        &self,
        ctx: &SignInContext,
        session: &mut Session,
        given: &Given,
        visitor: &EventContext,
        resume: impl FnOnce() -> Resume,
        now: u64,
    ) -> Result<Option<ConsentAsked>, SignInError> {
        let documents = self.consents.get().await?;
        let sub = session.profile.get("sub").and_then(Value::as_str).unwrap_or_default().to_owned();
        let key = self.mirror_key().await?;
        let mirrored = Accepted::from_claims(&session.profile, &sub, &key);
        let mirror_short = !mirrored.missing(&documents).is_empty();
        if !mirror_short && given.decisions.is_empty() {
            return Ok(None);
        }
        // The mirror may lag the records: they are the truth.
        let mut accepted = if mirror_short { Accepted::from_records(&self.consents.store.of_person(&session.username).await?) } else { mirrored.clone() };
        let records = changes(&accepted, given, &documents);
        for record in &records {
            if record.accepted {
                accepted.accept(&record.document, record.version);
            } else {
                accepted.withdraw(&record.document);
            }
        }
        let value = accepted.encode(&sub, &key);
        let records: Vec<ConsentRecord> = records.into_iter().map(|d| self.record_of(session, &sub, d, given.via, visitor, now)).collect();
        let events: Vec<IdentityEvent> = records.iter().map(|r| consent_event(session, r, ctx, visitor)).collect();
        let mirror_stale = accepted != mirrored;
        let (recorded, mirrored_now) = tokio::join!(self.consents.store.record(&records, &events), async {
            if mirror_stale { self.pool.set_attributes(&session.username, &[(ATTRIBUTE, &value)]).await } else { Ok(()) }
        });
        recorded?;
        if let Err(e) = mirrored_now {
            // The records are the truth; the next sign-in reads them and tries again.
            tracing::warn!(error = %e, "could not mirror a person's consents into Cognito");
        }
        session.profile.insert(ATTRIBUTE.into(), value.into());
        let missing = accepted.missing(&documents);
        if missing.is_empty() {
            return Ok(None);
        }
        let required: Vec<Shown> = missing.iter().map(|d| Shown { id: d.id.clone(), version: d.version, required: true, accepted: false }).collect();
        let optional =
            documents.iter().filter(|d| !d.required).map(|d| Shown { id: d.id.clone(), version: d.version, required: false, accepted: accepted.covers(d) });
        let shown: Vec<Shown> = required.into_iter().chain(optional).collect();
        let flow_key = self.secrets.bridge().await?.flow_key.clone();
        let resume = serde_json::to_string(&resume()).map_err(|_| FlowError::Invalid)?;
        let state = ConsentState { ctx: ctx.clone(), shown, resume: flow::encrypt(&flow_key, &resume) };
        let views = views(&state.shown, &documents);
        Ok(Some(ConsentAsked { flow: flow::seal(&flow_key, Purpose::Consent, now + CHALLENGE_TTL, &state), documents: views }))
    }

    fn record_of(&self, session: &Session, sub: &str, decision: Decision, via: Via, visitor: &EventContext, now: u64) -> ConsentRecord {
        ConsentRecord {
            username: session.username.clone(),
            sub: sub.to_owned(),
            email: session.profile.get("email").and_then(Value::as_str).map(str::to_owned),
            document: decision.document,
            version: decision.version,
            accepted: decision.accepted,
            at: now,
            ip: visitor.ip.clone(),
            user_agent: visitor.user_agent.clone(),
            via: serde_json::to_value(via).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        }
    }

    /// Whether the person `session` names has accepted every required document (the mirror;
    /// the records when the mirror lacks some). For a live session entering an app.
    pub(super) async fn consented(&self, session: &Session) -> Result<bool, SignInError> {
        let documents = self.consents.get().await?;
        let sub = session.profile.get("sub").and_then(Value::as_str).unwrap_or_default();
        if Accepted::from_claims(&session.profile, sub, &self.mirror_key().await?).missing(&documents).is_empty() {
            return Ok(true);
        }
        let records = self.consents.store.of_person(&session.username).await?;
        Ok(Accepted::from_records(&records).missing(&documents).is_empty())
    }
}

/// The decisions in `given` that change what `accepted` holds, about current versions only:
/// an acceptance of a version not accepted yet, a withdrawal of one that was.
fn changes(accepted: &Accepted, given: &Given, documents: &[ConsentDocument]) -> Vec<Decision> {
    let current = |d: &Decision| documents.iter().any(|doc| doc.id == d.document && doc.version == d.version);
    let changes = |d: &&Decision| match d.accepted {
        true => accepted.version(&d.document).is_none_or(|v| v < d.version),
        false => accepted.version(&d.document).is_some(),
    };
    given.decisions.iter().filter(|d| current(d)).filter(changes).cloned().collect()
}

fn consent_event(session: &Session, record: &ConsentRecord, ctx: &SignInContext, visitor: &EventContext) -> IdentityEvent {
    let user = EventUser { username: Some(session.username.clone()), ..EventUser::from_claims(&session.profile) };
    let context = EventContext { app: Some(ctx.app.to_string()), device: ctx.device.clone(), ..visitor.clone() };
    IdentityEvent::new(EventType::UserConsentGiven, user, context, record.at)
        .with_detail("document", record.document.as_str())
        .with_detail("version", record.version)
        .with_detail("accepted", record.accepted)
        .with_detail("via", record.via.as_str())
}

pub(super) fn views(shown: &[Shown], documents: &[ConsentDocument]) -> Vec<DocumentView> {
    let doc = |s: &Shown| documents.iter().find(|d| d.id == s.id && d.version == s.version).map(|d| DocumentView::of(d, s.accepted));
    shown.iter().filter_map(doc).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::document::sample;

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

    #[test]
    fn only_changes_to_current_versions_are_recorded() {
        let documents = [sample("marketing", 1, false), sample("terms", 2, true)];
        let mut accepted = Accepted::default();
        accepted.accept(&documents[1].id, 2);
        let names = |d: Vec<Decision>| d.into_iter().map(|d| (d.document.to_string(), d.version, d.accepted)).collect::<Vec<_>>();
        // Accepting terms v2 again changes nothing; an old version is not current; declining
        // marketing never given is no withdrawal.
        assert!(changes(&accepted, &given(&[("terms", 2, true), ("terms", 1, true), ("marketing", 1, false)]), &documents).is_empty());
        assert_eq!(names(changes(&accepted, &given(&[("marketing", 1, true)]), &documents)), [("marketing".into(), 1, true)]);
        accepted.accept(&documents[0].id, 1);
        assert_eq!(names(changes(&accepted, &given(&[("marketing", 1, false)]), &documents)), [("marketing".into(), 1, false)], "a withdrawal");
        assert!(changes(&accepted, &given(&[("other", 1, true)]), &documents).is_empty(), "no such document");
    }
}
