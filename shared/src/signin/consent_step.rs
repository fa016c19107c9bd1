//! The consent step's service ([`ConsentStep`]): the documents sign-up shows, the step shown
//! again (after a corporate sign-in, which reaches the form by a redirect), and the person's
//! answer. A required document not accepted is refused and recorded as a failed sign-in (the
//! step stays, for the person to accept); an accepted step is spent, once, and the paused sign-in
//! (`signin::consent`) goes on where it stopped, with the account read again (disabled or
//! deleted meanwhile: refused).

use std::collections::HashSet;
use std::sync::Arc;

use crate::consent::decision::{Decision, Given, Via};
use crate::consent::document::DocumentView;
use crate::events::{EventContext, EventType, EventUser, IdentityEvent};
use crate::signin::arrival::Arrival;
use crate::signin::challenge::AuthError;
use crate::signin::consent::{ConsentState, Resume};
use crate::signin::corporate::Finished;
use crate::signin::flow::FlowError;
use crate::signin::password::PasswordSignIn;
use crate::signin::service::{CHALLENGE_TTL, ConsentAsked, Outcome, SignInError, SignInPorts};

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

    /// The step `flow_token` is for, shown again.
    pub async fn show(&self, flow_token: &str, now: u64) -> Result<ConsentAsked, SignInError> {
        let state = ConsentState::open(&self.ports, flow_token, now).await?;
        Ok(ConsentAsked { flow: flow_token.to_owned(), documents: self.ports.views(&state.shown).await? })
    }

    /// The person's answer: `accepted` names the documents ticked. Every required document
    /// shown must be among them ([`SignInError::ConsentRequired`] otherwise; the step stays);
    /// an optional one shown ticked and not named is withdrawn. Then the flow is spent and the
    /// sign-in goes on: the handoff, or its next step.
    pub async fn answer(&self, flow_token: &str, accepted: &[String], visitor: &EventContext, now: u64) -> Result<Outcome, SignInError> {
        if accepted.len() > MAX_ANSWER {
            return Err(SignInError::BadInput("accepted"));
        }
        let state = ConsentState::open(&self.ports, flow_token, now).await?;
        let ticked: HashSet<&str> = accepted.iter().map(String::as_str).collect();
        let decisions: Vec<Decision> =
            state.shown.iter().map(|s| Decision { document: s.id.clone(), version: s.version, accepted: ticked.contains(s.id.as_str()) }).collect();
        if state.shown.iter().zip(&decisions).any(|(s, d)| s.required && !d.accepted) {
            let user = EventUser { username: Some(state.username.clone()), ..EventUser::default() };
            let context = EventContext { app: Some(state.ctx.app.to_string()), device: state.ctx.device.clone(), ..visitor.clone() };
            let event = IdentityEvent::new(EventType::UserSignInFailed, user, context, now).with_detail("reason", "consent_declined");
            if let Err(e) = self.ports.events.record(&event).await {
                tracing::warn!(error = %e, "could not record a declined consent");
            }
            return Err(SignInError::ConsentRequired);
        }
        // One flow, one sign-in: a flow answered before (a replay, a page reopened from the
        // browser's history) goes no further. Beside it, the account as it is now: disabled or
        // deleted since the step was asked, refused.
        let (fresh, user) = tokio::join!(self.ports.consents.store.spend(&state.id, now + CHALLENGE_TTL), self.ports.pool.user(&state.username));
        if !fresh? {
            return Err(FlowError::Invalid.into());
        }
        let user = user?.filter(|u| u.enabled).ok_or(SignInError::Auth(AuthError::InvalidCredentials))?;
        let given = Given { decisions, via: Via::SignIn };
        match state.resume {
            Resume::Password { id_token, access_token, second_factor, method, claim } => {
                let established = (second_factor, method, claim.as_deref());
                PasswordSignIn::new(self.ports.clone()).resume(&state.ctx, &id_token, access_token, established, &given, visitor, now).await
            }
            Resume::Corporate { org, provider_logout, second_factor } => {
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
        let attributes = serde_json::json!({"sub": USERNAME, "email": EMAIL}).as_object().cloned().unwrap_or_default();
        pool.attributes.lock().unwrap_or_else(|p| p.into_inner()).insert(USERNAME.into(), attributes);
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
        let ctx = f.svc.entry.start("demo", Entry { device: Some("browser-a"), ..Entry::return_to("https://acme.zendesk.com/hc/ja") }, NOW).await?;
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
    async fn a_decision_that_cannot_be_recorded_is_not_mirrored() {
        let f = fixture(vec![sample("terms", 1, true)]);
        let Ok(Outcome::Consent(asked)) = sign_in(&f).await else { panic!("no consent step") };
        *f.consents.record_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(crate::common::store::StoreError::Throttled);
        let answered = f.svc.consent.answer(&asked.flow, &["terms".into()], &here(), NOW).await;
        assert!(matches!(answered, Err(SignInError::Store(_))), "{answered:?}");
        let mirror = f.pool.attributes.lock().unwrap_or_else(|p| p.into_inner()).get(USERNAME).and_then(|a| a.get(ATTRIBUTE).cloned());
        assert_eq!(mirror, None, "the mirror never claims what is not on record");
    }

    #[tokio::test]
    async fn an_account_gone_since_the_step_was_asked_goes_no_further() {
        let f = fixture(vec![sample("terms", 1, true)]);
        let Ok(Outcome::Consent(asked)) = sign_in(&f).await else { panic!("no consent step") };
        f.pool.attributes.lock().unwrap_or_else(|p| p.into_inner()).clear();
        let answered = f.svc.consent.answer(&asked.flow, &["terms".into()], &here(), NOW).await;
        assert!(matches!(answered, Err(SignInError::Auth(AuthError::InvalidCredentials))), "{answered:?}");
    }

    #[tokio::test]
    async fn what_sign_up_accepted_survives_a_challenge_of_the_first_sign_in() {
        let f = fixture(vec![sample("terms", 1, true), sample("marketing", 1, false)]);
        if let Some(user) = f.auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
            user.challenge = Some(crate::signin::challenge::ChallengeKind::SmsMfa);
        }
        let decision = |id: &str| Decision { document: DocumentId::parse(id).unwrap_or_else(|e| panic!("{e}")), version: 1, accepted: true };
        let given = Given { decisions: vec![decision("terms"), decision("marketing")], via: Via::SignUp };
        let ctx = f.svc.entry.start("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let step = f.svc.password.sign_in_with(&ctx, EMAIL, &SecretString::from("pw"), &given, None, &here(), NOW).await;
        let Ok(Outcome::Challenge { flow, .. }) = step else { panic!("{step:?}") };
        let code = crate::signin::challenge::ChallengeAnswer::Code(SecretString::from("123456"));
        assert!(matches!(f.svc.password.answer(&flow, code, &here(), NOW).await, Ok(Outcome::Handoff(_))), "not asked again");
        let records: Vec<_> = f.consents.records.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|r| (r.document.to_string(), r.via)).collect();
        assert_eq!(records, [("terms".into(), Via::SignUp), ("marketing".into(), Via::SignUp)]);
    }

    #[tokio::test]
    async fn a_consent_step_too_large_to_carry_records_none_of_the_decisions_it_brings() {
        let f = fixture(vec![sample("terms", 1, true), sample("marketing", 1, false)]);
        let given = Given {
            decisions: vec![Decision { document: DocumentId::parse("marketing").unwrap_or_else(|e| panic!("{e}")), version: 1, accepted: true }],
            via: Via::SignUp,
        };
        let sign_in_giving = || async {
            let ctx = f.svc.entry.start("demo", Entry { device: Some("browser-a"), ..Entry::return_to("https://acme.zendesk.com/hc/ja") }, NOW).await?;
            f.svc.password.sign_in_with(&ctx, EMAIL, &SecretString::from("pw"), &given, None, &here(), NOW).await
        };
        // The step still owes the terms and carries the person's tokens; within Cognito's limits,
        // a long name fills it.
        let set_name = |name: String| {
            if let Some(user) = f.auth.users.lock().unwrap_or_else(|p| p.into_inner()).get_mut(EMAIL) {
                user.claims["name"] = name.into();
            }
        };
        set_name("名".repeat(2_048));
        let step = sign_in_giving().await;
        assert!(matches!(step, Err(SignInError::Flow(FlowError::TooLarge))), "{step:?}");
        assert!(f.consents.records.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "nothing recorded");
        assert!(f.consents.events.lock().unwrap_or_else(|p| p.into_inner()).is_empty(), "nothing recorded");
        // With a short name, the step is asked and the decision it brings is recorded.
        set_name("Hanako".into());
        assert!(matches!(sign_in_giving().await, Ok(Outcome::Consent(_))));
        let records: Vec<_> = f.consents.records.lock().unwrap_or_else(|p| p.into_inner()).iter().map(|r| r.document.to_string()).collect();
        assert_eq!(records, ["marketing"]);
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
        let replayed = f.svc.consent.answer(&asked.flow, &["terms".into()], &here(), NOW).await;
        assert!(matches!(replayed, Err(SignInError::Flow(FlowError::Invalid))), "one flow, one sign-in: {replayed:?}");
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
        let visitor = here();
        let signed_in = f.svc.arrival.open_handoff(&handoff, Some("browser-a"), &visitor, NOW).await.unwrap_or_else(|e| panic!("{e}"));
        let enter = || f.svc.entry.enter("demo", Entry::return_to("https://acme.zendesk.com/hc/ja"), Some(&signed_in.session), &visitor, NOW + 1);
        assert!(matches!(enter().await, Ok(Entered::App(_))));
        f.consents.documents.lock().unwrap_or_else(|p| p.into_inner()).push(sample("terms", 1, true));
        assert!(matches!(enter().await, Ok(Entered::Form { .. })), "the session alone does not reach the app");
    }
}
