//! Ending a person's bridge sessions when the directory disables, deletes or moves them: a
//! [`UserDirectory`] decorator the SCIM function puts around Cognito.

use std::sync::Arc;

use crate::common::store::StoreError;
use crate::common::time::unix_now;
use crate::directory::ports::{DirectoryError, UserDirectory};
use crate::directory::scim::directory_user::DirectoryUser;
use crate::signin::ports::SessionStore;

/// A user directory whose "disable and sign out everywhere" (and delete) also ends the person's
/// bridge sessions, console tokens and OpenID Connect refresh tokens (`SessionStore::end_all`), so a deactivated user's sessions
/// stop working at once; so does a change of
/// the person's email or organisation (a session carries the profile of its sign-in, and would
/// go on minting tokens with the old address), and a create that adopts an existing account.
/// Used by SCIM.
pub struct EndingSessions {
    pub directory: Arc<dyn UserDirectory>,
    pub sessions: Arc<dyn SessionStore>,
}

impl EndingSessions {
    async fn end(&self, username: &str) -> Result<(), DirectoryError> {
        self.sessions.end_all(username, unix_now()).await.map(|_| ()).map_err(unavailable)
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
        Ok(self.create_or_adopt(user).await?.0)
    }
    async fn create_or_adopt(&self, user: &DirectoryUser) -> Result<(String, bool), DirectoryError> {
        let (username, adopted) = self.directory.create_or_adopt(user).await?;
        // An account that was there (adopted by its email) may have sessions, which carry its
        // profile from before (no organisation, say): they end. Made inactive, none opens for a
        // while either. After Cognito's changes, which the directory's create makes itself: a
        // session written between the two is the sweep's.
        match (adopted, user.enabled) {
            (false, _) => {}
            (true, true) => self.end(&username).await?,
            (true, false) => self.revoke(&username).await?,
        }
        Ok((username, adopted))
    }
    async fn update(&self, username: &str, before: Option<&DirectoryUser>, user: &DirectoryUser) -> Result<(), DirectoryError> {
        self.directory.update(username, before, user).await?;
        let moved = before.is_some_and(|b| !b.email.eq_ignore_ascii_case(&user.email) || b.org != user.org);
        if moved { self.end(username).await } else { Ok(()) }
    }
    async fn scim_id(&self, username: &str) -> Result<Option<String>, DirectoryError> {
        self.directory.scim_id(username).await
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

    /// A directory that takes every change; its creates adopt user `u` when it is `Accepting(true)`.
    struct Accepting(bool);

    #[async_trait::async_trait]
    impl UserDirectory for Accepting {
        async fn create(&self, _: &DirectoryUser) -> Result<String, DirectoryError> {
            Ok("u".into())
        }
        async fn create_or_adopt(&self, _: &DirectoryUser) -> Result<(String, bool), DirectoryError> {
            Ok(("u".into(), self.0))
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
    async fn an_adopted_account_loses_its_sessions_and_adopted_inactive_opens_none() {
        let now = unix_now();
        for (adopted, enabled, ends, refused) in
            [(false, true, false, false), (false, false, false, false), (true, true, true, false), (true, false, true, true)]
        {
            let sessions = Arc::new(MemorySessions::default());
            let directory = EndingSessions { directory: Arc::new(Accepting(adopted)), sessions: sessions.clone() };
            let open = |key: &'static str| {
                let sessions = sessions.clone();
                async move {
                    sessions
                        .create(key, &Session::new("u".into(), None, Method::Corporate, Map::new(), SessionPolicy::default(), now), &[], &Default::default())
                        .await
                }
            };
            open("before").await.unwrap_or_else(|e| panic!("{e}"));
            directory.create(&DirectoryUser { enabled, ..taro() }).await.unwrap_or_else(|e| panic!("{e}"));
            let case = format!("adopted {adopted}, enabled {enabled}");
            let kept = sessions.get("before", &crate::signin::session::user_key("u")).await;
            assert_eq!(!matches!(kept, Ok(Some(crate::signin::session::Found::Kept(_)))), ends, "{case}: the session ended");
            assert_eq!(matches!(open("after").await, Err(StoreError::Conflict)), refused, "{case}: a sign-in under way is refused");
        }
    }

    #[tokio::test]
    async fn a_new_email_or_organisation_ends_the_persons_sessions_and_a_new_name_does_not() {
        let sessions = Arc::new(MemorySessions::default());
        let directory = EndingSessions { directory: Arc::new(Accepting(false)), sessions: sessions.clone() };
        let open = || async {
            let session = Session::new("u".into(), None, Method::Corporate, Map::new(), SessionPolicy::default(), 0);
            sessions.create("k", &session, &[], &Default::default()).await.unwrap_or_else(|e| panic!("{e}"));
        };
        let user = taro();
        let live = || async { matches!(sessions.get("k", &crate::signin::session::user_key("u")).await, Ok(Some(crate::signin::session::Found::Kept(_)))) };
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
