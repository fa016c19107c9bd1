//! The consent step's service ([`ConsentStep`]): the documents sign-up shows, the step shown
//! again (after a corporate sign-in, which reaches the form by a redirect), and the person's
//! answer, which records nothing for a refusal and otherwise resumes the paused sign-in
//! (`signin::consent`) where it stopped: a password one with its tokens, a corporate one with its
//! account read again.

use std::collections::HashSet;
use std::sync::Arc;

use secrecy::ExposeSecret;

use crate::consent::document::DocumentView;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::signin::arrival::Arrival;
use crate::signin::challenge::AuthError;
use crate::signin::consent::{ConsentState, Decision, Given, Resume, Via, views};
use crate::signin::corporate::Finished;
use crate::signin::flow::{self, FlowError, Purpose};
use crate::signin::password::PasswordSignIn;
use crate::signin::service::{ConsentAsked, Outcome, SignInError, SignInPorts};

/// The consent step: the documents (for sign-up), the step shown again, and the answer.
pub struct ConsentStep {
    ports: Arc<SignInPorts>,
}

/// Most documents an answer may name.
const MAX_ANSWER: usize = 32;

impl ConsentStep {
    pub fn new(ports: Arc<SignInPorts>) -> Self {
        Self { ports }
    }

    /// The current documents, as sign-up shows them (none accepted): required ones first.
    pub async fn documents(&self) -> Result<Vec<DocumentView>, SignInError> {
        let mut views: Vec<DocumentView> = self.ports.consents.get().await?.iter().map(|d| DocumentView::of(d, false)).collect();
        views.sort_by_key(|d| !d.required);
        Ok(views)
    }

    /// The step `flow` is for, shown again.
    pub async fn show(&self, flow_token: &str, now: u64) -> Result<ConsentAsked, SignInError> {
        let state = self.open(flow_token, now).await?;
        let documents = self.ports.consents.get().await?;
        Ok(ConsentAsked { flow: flow_token.to_owned(), documents: views(&state.shown, &documents) })
    }

    async fn open(&self, flow_token: &str, now: u64) -> Result<ConsentState, SignInError> {
        let key = self.ports.secrets.bridge().await?;
        Ok(flow::open(&key.flow_key, Purpose::Consent, flow_token, now)?)
    }

    /// The person's answer: `accepted` names the documents ticked. Every required document
    /// shown must be among them ([`SignInError::ConsentRequired`] otherwise, and the sign-in
    /// is over); optional ones not named are declined (withdrawn, if they had been given).
    /// Then the sign-in goes on: the handoff, or its next step.
    pub async fn answer(&self, flow_token: &str, accepted: &[String], visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        if accepted.len() > MAX_ANSWER {
            return Err(SignInError::BadInput("accepted"));
        }
        let state = self.open(flow_token, now).await?;
        let ticked: HashSet<&str> = accepted.iter().map(String::as_str).collect();
        let decisions: Vec<Decision> =
            state.shown.iter().map(|s| Decision { document: s.id.clone(), version: s.version, accepted: ticked.contains(s.id.as_str()) }).collect();
        if state.shown.iter().zip(&decisions).any(|(s, d)| s.required && !d.accepted) {
            let context = EventContext { app: Some(state.ctx.app.to_string()), ..visitor.clone() };
            let event = IdentityEvent::new(EventType::UserSignInFailed, EventUser::default(), context, now).with_detail("reason", "consent_declined");
            if let Err(e) = self.ports.events.record(&event).await {
                tracing::warn!(error = %e, "could not record a declined consent");
            }
            return Err(SignInError::ConsentRequired);
        }
        let given = Given { decisions, via: Via::SignIn };
        let key = self.ports.secrets.bridge().await?;
        let plain = flow::decrypt(&key.flow_key, &state.resume).ok_or(FlowError::Invalid)?;
        let resume: Resume = serde_json::from_str(plain.expose_secret()).map_err(|_| FlowError::Invalid)?;
        match resume {
            Resume::Password { id_token, access_token, second_factor } => {
                PasswordSignIn::new(self.ports.clone()).resume(&state.ctx, &id_token, access_token, second_factor, &given, visitor, now).await
            }
            Resume::Corporate { org, username, provider_logout, second_factor } => {
                // The account as it is now (it may have been deactivated meanwhile).
                let user = self.ports.pool.user(&username).await?.filter(|u| u.enabled).ok_or(SignInError::Auth(AuthError::InvalidCredentials))?;
                let done = Finished { ctx: state.ctx, org, user, provider_logout, second_factor, prior: None };
                Arrival::new(self.ports.clone()).resume(done, &given, visitor, now).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consent::document::{ConsentDocument, DocumentId, sample};
    use crate::consent::mirror::{ATTRIBUTE, Accepted};
    use crate::signin::SignIn;
    use crate::signin::service::{CHALLENGE_TTL, SignInPorts};
    use crate::signin::service::{Entered, Entry};
    use crate::testing::{EmptyPool, MemoryConsents, ScriptedAuth, sign_in_ports};
    use secrecy::SecretString;
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    const NOW: u64 = 1_700_000_000;
    const EMAIL: &str = "hanako@example.com";
    const USERNAME: &str = "sub-hanako@example.com";

    struct Fixture {
        svc: SignIn,
        auth: Arc<ScriptedAuth>,
        consents: Arc<MemoryConsents>,
        pool: Arc<EmptyPool>,
    }

    fn fixture(documents: Vec<ConsentDocument>) -> Fixture {
        let auth = Arc::new(ScriptedAuth::with_user(EMAIL, "pw", None));
        let consents = Arc::new(MemoryConsents { documents: documents.into(), ..MemoryConsents::default() });
        let pool = Arc::new(EmptyPool::default());
        let ports = sign_in_ports(auth.clone(), Default::default());
        // No cache: each sign-in sees what is published.
        let current = Arc::new(crate::consent::current::CurrentDocuments::new(consents.clone(), Duration::ZERO));
        let svc = SignIn::new(SignInPorts { consents: current, pool: pool.clone(), ..ports });
        Fixture { svc, auth, consents, pool }
    }

    fn here() -> EventContext {
        EventContext { ip: Some("192.0.2.1".into()), user_agent: Some("test".into()), ..EventContext::default() }
    }

    async fn sign_in(f: &Fixture) -> Result<Outcome, SignInError> {
        let ctx = f.svc.entry.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), NOW).await?;
        f.svc.password.sign_in(&ctx, EMAIL, &SecretString::from("pw"), &here(), NOW).await
    }

    /// What Cognito would now put in the person's ID token: the mirror the bridge wrote.
    fn mirror_into_token(f: &Fixture) {
        let written = f.pool.attributes.lock().unwrap_or_else(|p| p.into_inner()).get(USERNAME).and_then(|a| a.get(ATTRIBUTE).cloned());
        if let Some(user) = f.auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            user.claims[ATTRIBUTE] = written.unwrap_or_default();
        }
    }

    #[tokio::test]
    async fn without_documents_nothing_is_asked_or_read() {
        let f = fixture(vec![]);
        assert!(matches!(sign_in(&f).await, Ok(Outcome::Handoff(_))));
        assert_eq!(f.consents.person_reads.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn a_required_document_is_asked_before_any_token_and_declining_ends_the_sign_in() {
        let f = fixture(vec![sample("terms", 1, true), sample("marketing", 1, false)]);
        let Ok(Outcome::Consent(asked)) = sign_in(&f).await else { panic!("no consent step") };
        let shown: Vec<_> = asked.documents.iter().map(|d| (d.id.as_str(), d.required, d.accepted)).collect();
        assert_eq!(shown, [("terms", true, false), ("marketing", false, false)]);
        for declined in [vec![], vec!["marketing".to_owned()], vec!["Terms".to_owned()]] {
            assert!(matches!(f.svc.consent.answer(&asked.flow, &declined, &here(), NOW).await, Err(SignInError::ConsentRequired)), "{declined:?}");
        }
        assert!(f.consents.records.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "nothing recorded for a refusal");
        // The flow is for this step only, and expires.
        assert!(matches!(
            f.svc.password.answer(&asked.flow, crate::signin::challenge::ChallengeAnswer::Code(SecretString::from("1")), &here(), NOW).await,
            Err(SignInError::Flow(FlowError::Invalid))
        ));
        let late = f.svc.consent.answer(&asked.flow, &["terms".into()], &here(), NOW + CHALLENGE_TTL).await;
        assert!(matches!(late, Err(SignInError::Flow(FlowError::Expired))));

        let accepted = f.svc.consent.answer(&asked.flow, &["terms".into()], &here(), NOW).await;
        assert!(matches!(accepted, Ok(Outcome::Handoff(_))), "{accepted:?}");
        let records = f.consents.records.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(records.len(), 1, "marketing never given is not a withdrawal: {records:?}");
        assert_eq!((records[0].document.as_str(), records[0].version, records[0].accepted), ("terms", 1, true));
        assert_eq!((records[0].ip.as_deref(), records[0].user_agent.as_deref(), records[0].via.as_str()), (Some("192.0.2.1"), Some("test"), "sign_in"));
        let events = f.consents.events.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, EventType::UserConsentGiven);
        assert_eq!((events[0].detail["document"].as_str(), events[0].detail["accepted"].as_bool()), (Some("terms"), Some(true)));
    }

    #[tokio::test]
    async fn a_person_who_accepted_costs_no_read_until_a_new_version_is_published() {
        let f = fixture(vec![sample("terms", 1, true)]);
        let Ok(Outcome::Consent(asked)) = sign_in(&f).await else { panic!("no consent step") };
        assert!(matches!(f.svc.consent.answer(&asked.flow, &["terms".into()], &here(), NOW).await, Ok(Outcome::Handoff(_))));
        let reads = f.consents.person_reads.load(Ordering::Relaxed);
        // The mirror was not written to Cognito (or lags): the records are read, and it passes.
        assert!(matches!(sign_in(&f).await, Ok(Outcome::Handoff(_))));
        assert_eq!(f.consents.person_reads.load(Ordering::Relaxed), reads + 1);
        // With the mirror in the ID token: no read at all.
        mirror_into_token(&f);
        assert!(matches!(sign_in(&f).await, Ok(Outcome::Handoff(_))));
        assert_eq!(f.consents.person_reads.load(Ordering::Relaxed), reads + 1);
        // A new version is asked for.
        f.consents.documents.lock().unwrap_or_else(|p| p.into_inner()).push(sample("terms", 2, true));
        let Ok(Outcome::Consent(asked)) = sign_in(&f).await else { panic!("the new version not asked") };
        assert_eq!(asked.documents.iter().map(|d| d.version).collect::<Vec<_>>(), [2]);
    }

    #[tokio::test]
    async fn a_mirror_the_person_wrote_or_copied_counts_for_nothing() {
        let f = fixture(vec![sample("terms", 1, true)]);
        let mut forged = Accepted::default();
        forged.accept(&DocumentId::parse("terms").unwrap_or_else(|e| panic!("{e}")), 1);
        for value in
            [forged.encode(USERNAME, b"a key of their own"), forged.encode("someone-else", &[0; 32]), "terms=1".into(), "terms=1~AAAAAAAAAAAAAAAAAAAAAA".into()]
        {
            if let Some(user) = f.auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
                user.claims[ATTRIBUTE] = value.clone().into();
            }
            assert!(matches!(sign_in(&f).await, Ok(Outcome::Consent(_))), "{value}");
        }
    }

    #[tokio::test]
    async fn an_optional_consent_may_be_given_and_withdrawn() {
        let f = fixture(vec![sample("terms", 1, true), sample("marketing", 1, false)]);
        let Ok(Outcome::Consent(asked)) = sign_in(&f).await else { panic!("no consent step") };
        assert!(f.svc.consent.answer(&asked.flow, &["terms".into(), "marketing".into()], &here(), NOW).await.is_ok());
        // Terms v2: asked again, marketing shown as given; unticked, it is withdrawn.
        f.consents.documents.lock().unwrap_or_else(|p| p.into_inner()).push(sample("terms", 2, true));
        let Ok(Outcome::Consent(asked)) = sign_in(&f).await else { panic!("no consent step") };
        assert!(asked.documents.iter().any(|d| d.id.as_str() == "marketing" && d.accepted));
        assert!(f.svc.consent.answer(&asked.flow, &["terms".into()], &here(), NOW).await.is_ok());
        let decisions: Vec<_> = f
            .consents
            .events
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|e| (e.detail["document"].clone(), e.detail["version"].clone(), e.detail["accepted"].clone()))
            .collect();
        assert_eq!(
            decisions,
            [
                ("terms".into(), 1.into(), true.into()),
                ("marketing".into(), 1.into(), true.into()),
                ("terms".into(), 2.into(), true.into()),
                ("marketing".into(), 1.into(), false.into())
            ]
        );
    }

    #[tokio::test]
    async fn a_live_session_reaches_no_app_until_the_current_terms_are_accepted() {
        let f = fixture(vec![]);
        let Ok(Outcome::Handoff(handoff)) = sign_in(&f).await else { panic!("no handoff") };
        let signed_in = f.svc.arrival.open_handoff(&handoff, None, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let enter = || f.svc.entry.enter("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), Some(&signed_in.session), NOW + 1);
        assert!(matches!(enter().await, Ok(Entered::App(_))));
        f.consents.documents.lock().unwrap_or_else(|p| p.into_inner()).push(sample("terms", 1, true));
        assert!(matches!(enter().await, Ok(Entered::Form { .. })), "the session alone does not reach the app");
    }
}
