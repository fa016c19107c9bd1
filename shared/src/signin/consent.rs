//! Consent at sign-in: before any token is minted, a person must have accepted the current
//! version of every required document (`consent`). The check reads the mirror their claims
//! carry (`custom:consents`), so it costs no call for a person who has accepted; only when the
//! mirror lacks something are their records read (the truth), and the mirror written again.
//!
//! A person who has not accepted is shown the consent step ([`ConsentAsked`]): the documents,
//! and a flow (sealed and encrypted: the browser reads nothing in it) that resumes the sign-in
//! where it stopped (a password sign-in with the person's Cognito tokens, a corporate one with
//! its organisation and account). A required document not accepted is refused
//! (`consent_required`) and the step stays; an accepted step is spent, once. Decisions (at
//! sign-up, or on the step) are recorded with a `user.consent_given` event each, in one
//! transaction, before the mirror is written and the sign-in goes on.
//!
//! A live session whose person has not accepted is not enough for an app: `/sso/{app}` sends
//! them to the form, whose sign-in asks (`signin::entry`).

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::consent::decision::{Decision, Given, changes};
use crate::consent::document::{ConsentDocument, DocumentId, DocumentView};
use crate::consent::mirror::{ATTRIBUTE, Accepted};
use crate::consent::ports::ConsentRecord;
use crate::directory::org::OrgId;
use crate::events::{EventContext, EventType, IdentityEvent};
use crate::signin::flow::{self, Purpose, SignInContext};
use crate::signin::ports::TokenRejected;
use crate::signin::service::{CHALLENGE_TTL, ConsentAsked, SignInError, SignInPorts};
use crate::signin::session::{ProviderLogout, Session};

/// A document on the step: the version shown, whether it is required, whether it is accepted
/// (an optional one the person gave, in any version, shows ticked).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Shown {
    pub(super) id: DocumentId,
    pub(super) version: u32,
    pub(super) required: bool,
    pub(super) accepted: bool,
}

/// The paused sign-in, sealed and encrypted into the step's flow.
#[derive(Serialize, Deserialize)]
pub(super) struct ConsentState {
    /// Spent when the step is accepted (`ConsentStore::spend`): one flow, one sign-in.
    pub(super) id: String,
    pub(super) ctx: SignInContext,
    /// The person's Cognito user name.
    pub(super) username: String,
    pub(super) shown: Vec<Shown>,
    pub(super) resume: Resume,
}

/// How a paused sign-in goes on.
#[derive(Serialize, Deserialize)]
pub(super) enum Resume {
    /// A sign-in of the pool's own (a password, an email code, a passkey): the person's
    /// Cognito tokens.
    Password {
        id_token: String,
        access_token: String,
        second_factor: bool,
        #[serde(default)]
        method: crate::signin::session::Method,
        /// The hold on the account's sign-ins this one may pass (`SessionStore::hold`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        claim: Option<String>,
    },
    /// A corporate sign-in: the account is read again when it goes on.
    Corporate { org: OrgId, provider_logout: Option<ProviderLogout>, second_factor: bool },
}

impl ConsentState {
    async fn seal(&self, ports: &SignInPorts, now: u64) -> Result<String, SignInError> {
        let key = ports.secrets.bridge().await?;
        Ok(flow::seal_private(&key.flow_key, Purpose::Consent, now + CHALLENGE_TTL, self)?)
    }

    pub(super) async fn open(ports: &SignInPorts, token: &str, now: u64) -> Result<Self, SignInError> {
        let key = ports.secrets.bridge().await?;
        Ok(flow::open_private(&key.flow_key, Purpose::Consent, token, now)?)
    }
}

impl SignInPorts {
    /// The key the mirror's tag is made with (derived from the flow key, never the flow key).
    async fn mirror_key(&self) -> Result<[u8; 32], SignInError> {
        let key = self.secrets.bridge().await?;
        Ok(crate::common::hashing::hmac_sha256(key.flow_key.expose_secret().as_bytes(), &[b"consent mirror"]))
    }

    /// What the person `session` names has accepted, from their records.
    async fn recorded(&self, username: &str) -> Result<Accepted, SignInError> {
        Ok(Accepted::from_records(&self.consents.store.of_person(username).await?))
    }

    /// Writes the mirror `value` into the person's Cognito attribute; a failure is logged (the
    /// records are the truth: the next sign-in reads them and writes it again).
    async fn mirror(&self, username: &str, value: &str) {
        if let Err(e) = self.pool.set_attributes(username, &[(ATTRIBUTE, value)]).await {
            tracing::warn!(error = %e, "could not mirror a person's consents into Cognito");
        }
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
        let sub = subject(session)?;
        let key = self.mirror_key().await?;
        let mirrored = Accepted::from_claims(&session.profile, &sub, &key);
        let mirror_short = !mirrored.missing(&documents).is_empty();
        if !mirror_short && given.decisions.is_empty() {
            return Ok(None);
        }
        let mut accepted = if mirror_short { self.recorded(&session.username).await? } else { mirrored.clone() };
        let decisions = changes(&accepted, given);
        decisions.iter().for_each(|d| accepted.apply(d));
        // The step still owed, sealed before anything is written: one too large to carry is
        // refused with nothing recorded.
        let missing = accepted.missing(&documents);
        let step = if missing.is_empty() {
            None
        } else {
            let required = missing.iter().map(|d| Shown { id: d.id.clone(), version: d.version, required: true, accepted: false });
            let optional = documents.iter().filter(|d| !d.required).map(|d| Shown {
                id: d.id.clone(),
                version: d.version,
                required: false,
                accepted: accepted.version(&d.id).is_some(),
            });
            let state = ConsentState {
                id: uuid::Uuid::new_v4().to_string(),
                ctx: ctx.clone(),
                username: session.username.clone(),
                shown: required.chain(optional).collect(),
                resume: resume(),
            };
            Some((state.seal(self, now).await?, state.shown))
        };
        let records: Vec<ConsentRecord> = decisions.into_iter().map(|d| record_of(session, &sub, d, given, visitor, now)).collect();
        let context = EventContext { app: Some(ctx.app.to_string()), device: ctx.device.clone(), ..visitor.clone() };
        let events: Vec<IdentityEvent> = records.iter().map(|r| consent_event(session, r, &context)).collect();
        // A sign-in a hold refuses (its credentials changed since) records nothing for the person.
        if !records.is_empty() && self.sessions.held(session).await? {
            return Err(SignInError::AccountRevoked);
        }
        // The records first: the mirror never claims what is not on record.
        self.consents.store.record(&records, &events).await?;
        let value = accepted.encode(&sub, &key);
        if accepted != mirrored {
            self.mirror(&session.username, &value).await;
        }
        session.profile.insert(ATTRIBUTE.into(), value.into());
        match step {
            Some((flow, shown)) => Ok(Some(ConsentAsked { flow, documents: self.views(&shown).await? })),
            None => Ok(None),
        }
    }

    /// Whether the person `session` names has accepted every required document: the mirror
    /// it carries, else the records (then the mirror is written again in Cognito, for the next
    /// sign-in; this session reads the records at each app it opens until then). For a live
    /// session entering an app.
    pub(super) async fn consented(&self, session: &Session) -> Result<bool, SignInError> {
        self.consented_as(&session.username, &session.profile).await
    }

    /// [`Self::consented`] for the Cognito user `username` whose claims (or attributes) are
    /// `claims`: an OpenID Connect client's refresh, which reads the account afresh.
    pub(super) async fn consented_as(&self, username: &str, claims: &Map<String, Value>) -> Result<bool, SignInError> {
        let documents = self.consents.get().await?;
        let sub = subject_of(claims)?;
        let key = self.mirror_key().await?;
        if Accepted::from_claims(claims, sub, &key).missing(&documents).is_empty() {
            return Ok(true);
        }
        let accepted = self.recorded(username).await?;
        if !accepted.missing(&documents).is_empty() {
            return Ok(false);
        }
        self.mirror(username, &accepted.encode(sub, &key)).await;
        Ok(true)
    }

    /// The documents in force as the person `session` names stands with them (their records):
    /// a required one accepted in its current version, an optional one given in any version;
    /// required ones first. For their account page.
    pub(super) async fn consent_views(&self, session: &Session) -> Result<Vec<DocumentView>, SignInError> {
        let (documents, accepted) = tokio::join!(self.consents.get(), self.recorded(&session.username));
        let (documents, accepted) = (documents?, accepted?);
        let given = |d: &ConsentDocument| accepted.version(&d.id).is_some_and(|v| !d.required || v >= d.version);
        let mut views: Vec<DocumentView> = documents.iter().map(|d| DocumentView::of(d, given(d))).collect();
        views.sort_by_key(|v| !v.required);
        Ok(views)
    }

    /// The person's decision about an optional document in force, on their account page
    /// (`via: account`): given (its current version) or withdrawn. Recorded with its event
    /// when it changes something, then the mirror follows. `BadInput("document")` for a
    /// document not in force, or a required one (withdrawing it is deleting the account);
    /// `TooManyAttempts` past `sign_up::DECISIONS_PER_EMAIL` changes an hour.
    pub(super) async fn decide_optional(&self, session: &Session, document: &str, accepted: bool, visitor: &EventContext, now: u64) -> Result<(), SignInError> {
        let documents = self.consents.get().await?;
        let doc = documents.iter().find(|d| d.id.as_str() == document && !d.required).ok_or(SignInError::BadInput("document"))?;
        let sub = subject(session)?;
        let mut current = self.recorded(&session.username).await?;
        let given =
            Given { decisions: vec![Decision { document: doc.id.clone(), version: doc.version, accepted }], via: crate::consent::decision::Via::Account };
        let decisions = changes(&current, &given);
        if decisions.is_empty() {
            return Ok(());
        }
        let email = session.profile.get("email").and_then(Value::as_str).unwrap_or_default();
        if !self.sign_ups.consent_decided(email, now).await? {
            return Err(crate::signin::challenge::AuthError::TooManyAttempts.into());
        }
        decisions.iter().for_each(|d| current.apply(d));
        let records: Vec<ConsentRecord> = decisions.into_iter().map(|d| record_of(session, &sub, d, &given, visitor, now)).collect();
        let context = EventContext { method: Some("account".into()), ..visitor.clone() };
        let events: Vec<IdentityEvent> = records.iter().map(|r| consent_event(session, r, &context)).collect();
        self.consents.store.record(&records, &events).await?;
        let key = self.mirror_key().await?;
        self.mirror(&session.username, &current.encode(&sub, &key)).await;
        Ok(())
    }

    /// The documents `shown` names, as the form shows them: from the current ones held, or (one
    /// published since, on an instance that holds another) from every version published.
    pub(super) async fn views(&self, shown: &[Shown]) -> Result<Vec<DocumentView>, SignInError> {
        let current = self.consents.get().await?;
        let find = |all: &[ConsentDocument], s: &Shown| all.iter().find(|d| d.id == s.id && d.version == s.version).map(|d| DocumentView::of(d, s.accepted));
        if let Some(views) = shown.iter().map(|s| find(&current, s)).collect::<Option<Vec<_>>>() {
            return Ok(views);
        }
        let all = self.consents.store.documents().await?;
        Ok(shown.iter().filter_map(|s| find(&all, s)).collect())
    }
}

/// The person's `sub`: the mirror is bound to it, so a session or token without one has
/// accepted nothing and can write no mirror.
fn subject(session: &Session) -> Result<String, SignInError> {
    subject_of(&session.profile).map(str::to_owned)
}

/// The `sub` of `claims`; `TokenRejected` when it has none.
fn subject_of(claims: &Map<String, Value>) -> Result<&str, SignInError> {
    claims.get("sub").and_then(Value::as_str).filter(|s| !s.is_empty()).ok_or_else(|| TokenRejected::Invalid("no subject").into())
}

fn record_of(session: &Session, sub: &str, decision: Decision, given: &Given, visitor: &EventContext, now: u64) -> ConsentRecord {
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
        via: given.via,
    }
}

fn consent_event(session: &Session, record: &ConsentRecord, context: &EventContext) -> IdentityEvent {
    let user = session.event_user();
    IdentityEvent::new(EventType::UserConsentGiven, user, context.clone(), record.at)
        .with_detail("document", record.document.as_str())
        .with_detail("version", record.version)
        .with_detail("accepted", record.accepted)
        .with_detail("via", record.via.as_str())
}
