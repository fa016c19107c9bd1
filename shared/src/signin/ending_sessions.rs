//! Ending a person's bridge sessions when the directory disables, deletes or moves them: a
//! [`UserDirectory`] decorator the SCIM function puts around Cognito.

use std::sync::Arc;

use crate::common::store::StoreError;
use crate::common::time::unix_now;
use crate::directory::ports::{DirectoryError, UserDirectory};
use crate::directory::scim::directory_user::DirectoryUser;
use crate::signin::ports::SessionStore;

/// A user directory whose "disable and sign out everywhere" (and delete) also ends the person's
/// bridge sessions, so a deactivated user's sessions stop working at once; so does a change of
/// the person's email or organisation (a session carries the profile of its sign-in, and would
/// go on minting tokens with the old address). Used by SCIM.
pub struct EndingSessions {
    pub directory: Arc<dyn UserDirectory>,
    pub sessions: Arc<dyn SessionStore>,
}

impl EndingSessions {
    async fn end(&self, username: &str) -> Result<(), DirectoryError> {
        self.sessions.end_all(username).await.map(|_| ()).map_err(unavailable)
    }

    /// The account is disabled or deleted: its sessions end, and none opens for a while after.
    async fn revoke(&self, username: &str) -> Result<(), DirectoryError> {
        self.sessions.revoke(username, unix_now()).await.map(|_| ()).map_err(unavailable)
    }
}

/// The sessions' store failing, as the directory reports it.
fn unavailable(e: StoreError) -> DirectoryError {
    DirectoryError::Unavailable(e.to_string())
}

#[async_trait::async_trait]
impl UserDirectory for EndingSessions {
    async fn create(&self, user: &DirectoryUser) -> Result<String, DirectoryError> {
        let username = self.directory.create(user).await?;
        // Made inactive, the account may be one that was there (adopted by its email) and has
        // sessions: they end, and none opens for a while. After Cognito's change, which `create`
        // makes itself: a session written between the two is the sweep's.
        if !user.enabled {
            self.revoke(&username).await?;
        }
        Ok(username)
    }
    async fn update(&self, username: &str, before: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<(), DirectoryError> {
        self.directory.update(username, before, user).await?;
        let moved = before.is_some_and(|b| !b.email.eq_ignore_ascii_case(&user.email) || b.org != user.org);
        if moved { self.end(username).await } else { Ok(()) }
    }
    async fn set_enabled(&self, username: &str, enabled: bool) -> Result<(), DirectoryError> {
        if !enabled {
            // The revocation first: a sign-in under way opens nothing, even should Cognito fail.
            self.revoke(username).await?;
            return self.directory.set_enabled(username, false).await;
        }
        let since = unix_now();
        self.directory.set_enabled(username, true).await?;
        self.sessions.reinstate(username, since).await.map_err(unavailable)
    }
    async fn delete(&self, username: &str) -> Result<(), DirectoryError> {
        self.revoke(username).await?;
        self.directory.delete(username).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signin::session::{Method, Session, SessionPolicy};
    use crate::testing::MemorySessions;
    use serde_json::Map;

    /// A directory that takes every change.
    struct Accepting;

    #[async_trait::async_trait]
    impl UserDirectory for Accepting {
        async fn create(&self, _: &DirectoryUser) -> Result<String, DirectoryError> {
            Ok("u".into())
        }
        async fn update(&self, _: &str, _: Option<&DirectoryUser>, _: &DirectoryUser) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn set_enabled(&self, _: &str, _: bool) -> Result<(), DirectoryError> {
            Ok(())
        }
        async fn delete(&self, _: &str) -> Result<(), DirectoryError> {
            Ok(())
        }
    }

    fn taro() -> DirectoryUser {
        DirectoryUser {
            email: "taro@corp.example".into(),
            given_name: None,
            family_name: None,
            name: Some("Taro".into()),
            org: "org-1".into(),
            scim_id: "s".into(),
            enabled: true,
        }
    }

    #[tokio::test]
    async fn an_account_adopted_inactive_loses_its_sessions_and_opens_none() {
        let sessions = Arc::new(MemorySessions::default());
        let directory = EndingSessions { directory: Arc::new(Accepting), sessions: sessions.clone() };
        let now = unix_now();
        let open = |key: &'static str| {
            let sessions = sessions.clone();
            async move { sessions.create(key, &Session::new("u".into(), None, Method::Corporate, Map::new(), SessionPolicy::default(), now), &[], &Default::default()).await }
        };
        open("before").await.unwrap_or_else(|e| panic!("{e}"));
        directory.create(&DirectoryUser { enabled: true, ..taro() }).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(sessions.get("before").await.ok().flatten().is_some(), "an active account keeps its sessions");
        directory.create(&DirectoryUser { enabled: false, ..taro() }).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(sessions.get("before").await.ok().flatten().is_none(), "the account's session ended");
        assert!(matches!(open("after").await, Err(StoreError::Conflict)), "a sign-in under way opens nothing");
    }

    #[tokio::test]
    async fn a_new_email_or_organisation_ends_the_persons_sessions_and_a_new_name_does_not() {
        let sessions = Arc::new(MemorySessions::default());
        let directory = EndingSessions { directory: Arc::new(Accepting), sessions: sessions.clone() };
        let open = || async {
            let session = Session::new("u".into(), None, Method::Corporate, Map::new(), SessionPolicy::default(), 0);
            sessions.create("k", &session, &[], &Default::default()).await.unwrap_or_else(|e| panic!("{e}"));
        };
        let user = taro();
        let live = || async { sessions.get("k").await.ok().flatten().is_some() };
        for (changed, ends) in [
            (DirectoryUser { name: Some("Taro Yamada".into()), ..user.clone() }, false),
            (DirectoryUser { email: "TARO@corp.example".into(), ..user.clone() }, false),
            (DirectoryUser { email: "jiro@corp.example".into(), ..user.clone() }, true),
            (DirectoryUser { org: "org-2".into(), ..user.clone() }, true),
        ] {
            open().await;
            directory.update("u", Some(&user), &changed).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(live().await, !ends, "{changed:?}");
        }
    }
}
