//! The Cognito connector: workflow steps that act on a user of the bridge's own pool (disable,
//! delete, add to a group, sign out everywhere, merge a federated duplicate into the person's
//! account), over the directory ports. Signing out and disabling end the person's bridge
//! sessions too, so no app can be entered from an old session. A step may name its user by an
//! alias Cognito takes (the email); the bridge's records are kept under the pool's own name.
//!
//! Every action is idempotent, so a retried or replayed step is safe: a user already gone is
//! done for delete and sign-out, and a merge that deleted the duplicate but failed to link
//! finishes the link when replayed. A flow never disables or deletes an operator's account (a
//! console role), nor hands out a console role.

use serde_json::{Value, json};
use std::sync::Arc;

use super::flow::{Action, CognitoAction};
use super::runner::StepOutcome;
use crate::common::store::StoreError;
use crate::common::time::unix_now;
use crate::directory::ports::{AccountLinker, DirectoryError, OrgDirectory, PoolUsers, UserDirectory, holds_console_role, is_console_group};
use crate::directory::triggers::{AddressOwner, federated_identity, may_link};
use crate::signin::ports::SessionStore;

pub struct UserActions {
    pub directory: Arc<dyn UserDirectory>,
    pub pool: Arc<dyn PoolUsers>,
    pub linker: Arc<dyn AccountLinker>,
    pub sessions: Arc<dyn SessionStore>,
    /// The organisations: which provider may be linked to whose account (`may_link`).
    pub orgs: Arc<dyn OrgDirectory>,
}

/// Why a step on an operator's account fails.
const OPERATOR: &str = "the user holds a console role: an operator's account is changed by an admin, never by a flow";

/// Why a step did not happen, as the runner sees it.
fn outcome(e: DirectoryError) -> StepOutcome {
    match e {
        DirectoryError::Throttled | DirectoryError::Unavailable(_) => StepOutcome::Retry(e.to_string()),
        other => StepOutcome::Failed(other.to_string()),
    }
}

fn store(e: StoreError) -> StepOutcome {
    StepOutcome::Retry(format!("the bridge's sessions: {e}"))
}

#[async_trait::async_trait]
impl crate::workflows::runner::Connectors for UserActions {
    async fn call(&self, action: &Action) -> StepOutcome {
        UserActions::call(self, action).await
    }
}

impl UserActions {
    pub async fn call(&self, action: &Action) -> StepOutcome {
        let Action::Cognito { action, username, group, email } = action else { return StepOutcome::Failed("not a Cognito step".into()) };
        if username.is_empty() {
            return StepOutcome::Failed("the step names no user".into());
        }
        match self.act(*action, username, group.as_deref(), email.as_deref()).await {
            Ok(output) => StepOutcome::Done(output),
            Err(outcome) => outcome,
        }
    }

    /// The pool's own name for the user a step names: Cognito takes the email (the pool's
    /// username attribute) where a name goes, but the bridge keeps sessions and revocations under
    /// the name itself. Only a name with an `@` can be an email, so only that is looked up; a
    /// user not found keeps the name given.
    async fn canonical(&self, named: &str) -> Result<String, StepOutcome> {
        if !named.contains('@') {
            return Ok(named.to_owned());
        }
        Ok(self.pool.username_of(named).await.map_err(outcome)?.unwrap_or_else(|| named.to_owned()))
    }

    async fn act(&self, action: CognitoAction, named: &str, group: Option<&str>, email: Option<&str>) -> Result<Value, StepOutcome> {
        let username = match action {
            CognitoAction::DisableUser | CognitoAction::DeleteUser | CognitoAction::SignOut => &self.canonical(named).await?,
            CognitoAction::AddToGroup | CognitoAction::LinkAccounts => named,
        };
        if matches!(action, CognitoAction::DisableUser | CognitoAction::DeleteUser) {
            self.not_an_operator(username).await?;
        }
        match action {
            // The revocation first: a sign-in under way opens nothing, even should Cognito fail.
            CognitoAction::DisableUser => {
                let sessions = self.sessions.revoke(username, unix_now()).await.map_err(store)?;
                match self.directory.set_enabled(username, false).await {
                    Ok(()) => {}
                    Err(DirectoryError::Gone) => return Ok(json!({"user": "gone", "sessions_ended": sessions})),
                    Err(e) => return Err(outcome(e)),
                }
                Ok(json!({"disabled": true, "sessions_ended": sessions}))
            }
            CognitoAction::DeleteUser => {
                let sessions = self.sessions.revoke(username, unix_now()).await.map_err(store)?;
                self.directory.delete(username).await.map_err(outcome)?;
                Ok(json!({"deleted": true, "sessions_ended": sessions}))
            }
            CognitoAction::AddToGroup => {
                let group = group.filter(|g| !g.is_empty()).ok_or_else(|| StepOutcome::Failed("the step names no group".into()))?;
                // The console's roles are given by an admin only (`bridge-admin admin grant`).
                if is_console_group(group) {
                    return Err(StepOutcome::Failed(format!("{group} is one of the bridge's own groups (a console role), which only an admin gives")));
                }
                self.pool.add_to_group(username, group).await.map_err(outcome)?;
                Ok(json!({"group": group}))
            }
            CognitoAction::SignOut => {
                self.pool.sign_out(username).await.map_err(outcome)?;
                let sessions = self.sessions.end_all(username, unix_now()).await.map_err(store)?;
                Ok(json!({"signed_out": true, "sessions_ended": sessions}))
            }
            CognitoAction::LinkAccounts => self.merge(username, email.unwrap_or_default()).await,
        }
    }

    /// An operator's account (a console role) is the admins' to disable or delete, never a
    /// flow's: a flow acting on an event's user (a typed email, an inactive account) would lock
    /// the console's own people out. A user not found goes on (the step is then done).
    async fn not_an_operator(&self, username: &str) -> Result<(), StepOutcome> {
        match self.pool.user_exactly(username).await.map_err(outcome)? {
            Some(user) if holds_console_role(&user.groups) => Err(StepOutcome::Failed(OPERATOR.into())),
            _ => Ok(()),
        }
    }

    /// Merges the federated user `username` into the pool's own account with the verified `email`.
    async fn merge(&self, username: &str, email: &str) -> Result<Value, StepOutcome> {
        let identity = federated_identity(username).ok_or_else(|| StepOutcome::Failed("not a federated user's name".into()))?;
        let email = email.trim().to_lowercase();
        let Some(existing) = self.linker.verified_user_with_email(&email).await.map_err(outcome)? else {
            return Ok(json!({"linked": false, "reason": "no account with this verified email that a provider may join (an operator's never is)"}));
        };
        let owner = AddressOwner::of(&*self.orgs, Some(&email)).await.map_err(|e| StepOutcome::Retry(format!("the organisations: {e}")))?;
        let provider = match may_link(&owner, &identity.provider, &existing) {
            Ok(provider) => provider,
            Err(reason) => return Ok(json!({"linked": false, "reason": reason})),
        };
        if let Some(duplicate) = self.pool.user_exactly(username).await.map_err(outcome)? {
            let text = |k: &str| duplicate.attributes.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
            if text("email_verified") != "true" || text("email").to_lowercase() != email {
                return Ok(json!({"linked": false, "reason": "the federated user's email is not this verified email"}));
            }
            if holds_console_role(&duplicate.groups) {
                return Err(StepOutcome::Failed(OPERATOR.into()));
            }
            // The provider's identity can only be linked once it has no user of its own.
            self.sessions.revoke(&duplicate.username, unix_now()).await.map_err(store)?;
            self.directory.delete(&duplicate.username).await.map_err(outcome)?;
        }
        self.linker.link(&existing.username, &provider, &identity.subject).await.map_err(outcome)?;
        Ok(json!({"linked": true, "into": existing.username, "provider": provider}))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::org::OrgId;
    use crate::directory::ports::{LinkTarget, PoolUser};
    use crate::directory::scim::directory_user::DirectoryUser;
    use crate::testing::MemorySessions;
    use async_trait::async_trait;
    use serde_json::Map;
    use std::sync::Mutex;

    /// A pool: users by name with (email, email_verified, federated), and the links made.
    #[derive(Default)]
    struct Pool {
        users: Mutex<Vec<(String, String, bool, bool)>>,
        links: Mutex<Vec<(String, String, String)>>,
        /// The users in `bridge-admin`.
        operators: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl UserDirectory for Pool {
        async fn create(&self, _: &DirectoryUser) -> Result<String, DirectoryError> {
            Err(DirectoryError::Refused("not here".into()))
        }
        async fn update(&self, _: &str, _: Option<&DirectoryUser>, _: &DirectoryUser) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn set_enabled(&self, _: &str, _: bool) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn delete(&self, username: &str) -> Result<(), DirectoryError> {
            self.users.lock().unwrap_or_else(|p| p.into_inner()).retain(|u| u.0 != username);
            Ok(())
        }
    }

    #[async_trait]
    impl PoolUsers for Pool {
        async fn user(&self, username: &str) -> Result<Option<PoolUser>, DirectoryError> {
            let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
            Ok(users.iter().find(|u| u.0 == username).map(|(name, email, verified, _)| {
                let mut attributes = Map::new();
                attributes.insert("email".into(), email.clone().into());
                attributes.insert("email_verified".into(), verified.to_string().into());
                let operator = self.operators.lock().unwrap_or_else(|p| p.into_inner()).contains(name);
                let groups = if operator { vec!["bridge-admin".to_owned()] } else { Vec::new() };
                PoolUser { username: name.clone(), enabled: true, attributes, groups, factors: Vec::new(), status: None }
            }))
        }
        async fn username_of(&self, name: &str) -> Result<Option<String>, DirectoryError> {
            let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
            Ok(users.iter().find(|u| u.0 == name || u.1 == name).map(|u| u.0.clone()))
        }
        async fn unconfirmed(&self, _: &str) -> Result<Option<String>, DirectoryError> {
            Ok(None)
        }
        async fn own_account_with_email(&self, _: &str) -> Result<Option<String>, DirectoryError> {
            Ok(None)
        }
        async fn find_by_email(&self, _: &str) -> Result<Option<String>, DirectoryError> {
            Ok(None)
        }
        async fn set_org(&self, _: &str, _: &OrgId) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn sign_out(&self, _: &str) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn add_to_group(&self, _: &str, _: &str) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn claim(&self, _: &str, _: &secrecy::SecretString, _: &[(&str, &str)]) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn set_attributes(&self, _: &str, _: &[(&str, &str)]) -> Result<(), DirectoryError> {
            Ok(())
        }
    }

    #[async_trait]
    impl AccountLinker for Pool {
        async fn verified_user_with_email(&self, email: &str) -> Result<Option<LinkTarget>, DirectoryError> {
            let users = self.users.lock().unwrap_or_else(|p| p.into_inner());
            Ok(users.iter().find(|u| u.1 == email && u.2 && !u.3).map(|u| LinkTarget { username: u.0.clone(), org: None }))
        }
        async fn link(&self, username: &str, provider: &str, subject: &str) -> Result<(), DirectoryError> {
            self.links.lock().unwrap_or_else(|p| p.into_inner()).push((username.into(), provider.into(), subject.into()));
            Ok(())
        }
        async fn disable(&self, _: &str) -> Result<(), DirectoryError> {
            Err(DirectoryError::Refused("a flow's step never disables through the linker".into()))
        }
    }

    /// Acme, whose people sign in through the pool's `AcmeOIDC`.
    fn acme() -> Arc<crate::testing::MemoryOrgs> {
        Arc::new(crate::testing::MemoryOrgs::default().with_pool_provider("acme", "acme.test", "AcmeOIDC"))
    }

    fn merge(username: &str, email: &str) -> Action {
        Action::Cognito { action: CognitoAction::LinkAccounts, username: username.into(), group: None, email: Some(email.into()) }
    }

    #[tokio::test]
    async fn a_federated_duplicate_is_merged_into_the_verified_account_once() {
        let pool = Arc::new(Pool::default());
        pool.users.lock().unwrap_or_else(|p| p.into_inner()).extend([
            ("7d1e-native".to_owned(), "hanako@acme.test".to_owned(), true, false),
            ("AcmeOIDC_00u1".to_owned(), "hanako@acme.test".to_owned(), true, true),
            ("AcmeOIDC_00u2".to_owned(), "taro@acme.test".to_owned(), false, true),
            ("9a9a-native".to_owned(), "taro@acme.test".to_owned(), true, false),
        ]);
        let actions =
            UserActions { directory: pool.clone(), pool: pool.clone(), linker: pool.clone(), sessions: Arc::new(MemorySessions::default()), orgs: acme() };

        let StepOutcome::Done(out) = actions.call(&merge("AcmeOIDC_00u1", "Hanako@Acme.test")).await else { panic!("not done") };
        assert_eq!(out["into"], "7d1e-native");
        assert!(pool.user("AcmeOIDC_00u1").await.ok().flatten().is_none(), "the duplicate is gone");
        // A replay (the duplicate already deleted) finishes the same link.
        assert!(matches!(actions.call(&merge("AcmeOIDC_00u1", "hanako@acme.test")).await, StepOutcome::Done(_)));
        let links = pool.links.lock().unwrap_or_else(|p| p.into_inner()).clone();
        assert_eq!(links[0], ("7d1e-native".to_owned(), "AcmeOIDC".to_owned(), "00u1".to_owned()));

        // The federated user's own email is not verified: nothing is deleted or linked.
        let StepOutcome::Done(out) = actions.call(&merge("AcmeOIDC_00u2", "taro@acme.test")).await else { panic!("not done") };
        assert_eq!(out["linked"], false);
        assert!(pool.user("AcmeOIDC_00u2").await.ok().flatten().is_some());
        // No account of the pool's own with that email: nothing to do.
        let StepOutcome::Done(out) = actions.call(&merge("AcmeOIDC_00u3", "nobody@acme.test")).await else { panic!("not done") };
        assert_eq!(out["linked"], false);
        assert!(matches!(actions.call(&merge("7d1e-native", "hanako@acme.test")).await, StepOutcome::Failed(_)), "not a federated user");
        assert_eq!(pool.links.lock().unwrap_or_else(|p| p.into_inner()).len(), 2);
        // A federated user who is an operator is not deleted as a duplicate.
        pool.users.lock().unwrap_or_else(|p| p.into_inner()).push(("AcmeOIDC_00u4".to_owned(), "hanako@acme.test".to_owned(), true, true));
        pool.operators.lock().unwrap_or_else(|p| p.into_inner()).push("AcmeOIDC_00u4".to_owned());
        assert!(matches!(actions.call(&merge("AcmeOIDC_00u4", "hanako@acme.test")).await, StepOutcome::Failed(why) if why.contains("console role")));
        assert!(pool.user("AcmeOIDC_00u4").await.ok().flatten().is_some(), "the operator's account stays");
        assert_eq!(pool.links.lock().unwrap_or_else(|p| p.into_inner()).len(), 2);
        // Another provider asserting an Acme address (a social one, or another company's):
        // neither linked nor its duplicate deleted.
        pool.users.lock().unwrap_or_else(|p| p.into_inner()).push(("BetaSAML_x1".to_owned(), "hanako@acme.test".to_owned(), true, true));
        let StepOutcome::Done(out) = actions.call(&merge("BetaSAML_x1", "hanako@acme.test")).await else { panic!("not done") };
        assert_eq!(out["linked"], false, "{out}");
        assert!(pool.user("BetaSAML_x1").await.ok().flatten().is_some(), "the duplicate stays");
        assert_eq!(pool.links.lock().unwrap_or_else(|p| p.into_inner()).len(), 2);
    }

    /// The shipped template, from the `user.registered` event a federated sign-up records.
    #[tokio::test]
    async fn the_link_template_merges_a_federated_sign_up_from_its_event() {
        use crate::events::IdentityEvent;
        use crate::workflows::flow::Flow;
        use crate::workflows::runner::{RunStatus, Runner};
        let flow: Flow =
            serde_json::from_str(include_str!("../../../workflows/templates/link-federated-user-to-existing-account.json")).unwrap_or_else(|e| panic!("{e}"));
        let pool = Arc::new(Pool::default());
        pool.users.lock().unwrap_or_else(|p| p.into_inner()).extend([
            ("7d1e-native".to_owned(), "hanako@acme.test".to_owned(), true, false),
            ("AcmeOIDC_00u1".to_owned(), "hanako@acme.test".to_owned(), true, true),
        ]);
        let actions = Arc::new(UserActions {
            directory: pool.clone(),
            pool: pool.clone(),
            linker: pool.clone(),
            sessions: Arc::new(MemorySessions::default()),
            orgs: acme(),
        });
        let runs = Arc::new(crate::testing::MemoryRuns::default());
        let runner = Runner { connectors: actions, runs: runs.clone(), dead_letters: runs.clone(), pause: runs, deadline: None };
        let registered = |id: &str, method: &str, verified: bool| -> IdentityEvent {
            serde_json::from_value(serde_json::json!({"id": id, "type": "user.registered", "at": 1,
                "user": {"sub": "s", "username": "AcmeOIDC_00u1", "email": "hanako@acme.test", "email_verified": verified},
                "context": {"method": method}}))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let flows = [flow];
        assert!(runner.handle(&registered("e-1", "password", true), &flows, 1).await.unwrap_or_default().is_empty(), "not federated");
        assert!(runner.handle(&registered("e-2", "federated", false), &flows, 1).await.unwrap_or_default().is_empty(), "not verified");
        let runs = runner.handle(&registered("e-3", "federated", true), &flows, 1).await.unwrap_or_default();
        assert_eq!(runs[0].status, RunStatus::Succeeded);
        assert_eq!(*pool.links.lock().unwrap_or_else(|p| p.into_inner()), [("7d1e-native".to_owned(), "AcmeOIDC".to_owned(), "00u1".to_owned())]);
    }
}
