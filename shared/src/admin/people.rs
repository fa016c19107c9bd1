//! People as operators see and manage them: find a person by email and see their organisation,
//! groups, console role, second factors, last sign-in, bridge sessions and the OpenID Connect
//! apps that keep them signed in; disable, enable, sign out everywhere, of one session or of one
//! such app, reset their second factors, require a new password; give and take console roles. Each change is made in Cognito (and the sessions table), then
//! recorded in the audit trail: Cognito and DynamoDB share no transaction, so a record follows
//! its change.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Value, json};

use super::AdminError;
use super::audit::{Actor, AuditRecord};
use super::operator::Operator;
use super::ports::{AuditLog, PeopleDirectory, PersonSessions};
use super::role::Role;
use crate::common::email::Email;
use crate::directory::ports::PoolUser;
use crate::events::{EventType, EventUser};
use crate::signin::openid_provider::family::{self, ConnectedApp};
use crate::signin::session::{Method, Session};

/// A person, as the console shows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Person {
    pub username: String,
    pub sub: Option<String>,
    pub email: Option<String>,
    pub enabled: bool,
    pub org: Option<String>,
    pub groups: Vec<String>,
    /// Their console role, if they have one.
    pub role: Option<Role>,
    /// The second factors they have set up (`SMS_MFA`, `SOFTWARE_TOKEN_MFA`, `EMAIL_OTP`).
    pub factors: Vec<String>,
    /// Cognito's account status (`CONFIRMED`; `RESET_REQUIRED`: a new password is required of
    /// them; `FORCE_CHANGE_PASSWORD`: an invitation not taken up; `UNCONFIRMED`;
    /// `EXTERNAL_PROVIDER`: they sign in through their company), where Cognito gave one.
    pub status: Option<String>,
    /// When they last signed in (seconds since the epoch), if ever.
    pub last_sign_in: Option<u64>,
    /// Their live bridge sessions, newest first.
    pub sessions: Vec<SessionSummary>,
    /// The OpenID Connect apps that keep them signed in (refresh tokens), newest first.
    pub connected: Vec<ConnectedApp>,
}

/// A bridge session, without anything that opens it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionSummary {
    /// The session's key: the digest of its cookie, which opens nothing (for
    /// [`PeopleAdmin::end_session`]).
    pub id: String,
    pub method: Method,
    /// Seconds since the Unix epoch.
    pub created: u64,
    pub last_seen: u64,
    pub expires_at: u64,
    pub second_factor: bool,
    pub high_risk: bool,
}

pub struct PeopleAdmin {
    pub directory: Arc<dyn PeopleDirectory>,
    pub sessions: Arc<dyn PersonSessions>,
    pub audit: Arc<dyn AuditLog>,
    /// The codes sent to each address: a reset code Cognito mails at an admin's request is
    /// counted as the form's are, and its tries start again.
    pub codes: Arc<dyn crate::signin::ports::SignUpLedger>,
    /// The organisations: an address in a domain one owns is its people's, never invited.
    pub orgs: Arc<dyn crate::directory::ports::OrgStore>,
    /// OpenID Connect clients' refresh tokens, and the apps they are for: the apps that keep a
    /// person signed in.
    pub refresh: Arc<dyn crate::signin::ports::RefreshFamilies>,
    pub apps: Arc<dyn crate::tokens::ports::AppDirectory>,
}

pub(super) fn text(user: &PoolUser, name: &str) -> Option<String> {
    user.attributes.get(name).and_then(Value::as_str).map(str::to_owned)
}

fn event_user(user: &PoolUser) -> EventUser {
    EventUser {
        sub: text(user, "sub").unwrap_or_default(),
        username: Some(user.username.clone()),
        email: text(user, "email"),
        org: text(user, crate::common::profile::ORG_ATTRIBUTE),
        ..EventUser::default()
    }
}

impl PeopleAdmin {
    /// The person whose email is `email`.
    pub async fn find(&self, email: &str, now: u64) -> Result<Person, AdminError> {
        let email = Email::parse(email).map_err(|e| AdminError::Invalid(e.to_string()))?;
        let username =
            self.directory.find_by_email(email.as_str()).await?.ok_or_else(|| AdminError::NotFound(format!("a person with email {}", email.as_str())))?;
        self.person(&username, now).await
    }

    /// The person whose Cognito user name (or email alias) is `username`.
    pub async fn person(&self, username: &str, now: u64) -> Result<Person, AdminError> {
        let (user, activity) = self.read(username, now).await?;
        Ok(person(user, activity))
    }

    /// Disables the person's account and ends their sessions and refresh tokens.
    pub async fn disable(&self, actor: &Actor, username: &str, now: u64) -> Result<Person, AdminError> {
        let (mut user, activity) = self.read(username, now).await?;
        not_yourself(actor, &user)?;
        // The revocation first (a sign-in under way opens nothing, even should Cognito fail);
        // disabling revokes the refresh tokens too.
        self.sessions.revoke(&user.username, now).await?;
        self.directory.set_enabled(&user.username, false).await?;
        self.record(EventType::AdminUserDisabled, actor, &user, json!({"enabled": user.enabled}), json!({"enabled": false}), now).await?;
        user.enabled = false;
        Ok(person(user, activity.signed_out()))
    }

    pub async fn enable(&self, actor: &Actor, username: &str, now: u64) -> Result<Person, AdminError> {
        let (mut user, activity) = self.read(username, now).await?;
        // `now` is when the request arrived: a revocation recorded since then stays.
        self.directory.set_enabled(&user.username, true).await?;
        self.sessions.reinstate(&user.username, now).await?;
        self.record(EventType::AdminUserEnabled, actor, &user, json!({"enabled": user.enabled}), json!({"enabled": true}), now).await?;
        user.enabled = true;
        Ok(person(user, activity))
    }

    /// Turns the person's second factors off, as for a lost phone, and ends every bridge
    /// session, Cognito refresh token and console token of theirs (a phone lost while signed in
    /// holds a session that passed its factor). Their next sign-in asks for no code, and an app
    /// that requires one has them prove their email and set one up again. Their passkeys and
    /// phone number stay. Not one's own (their account page changes those); an operator only of
    /// someone with no console role ([`helpdesk_may`]). Recorded as
    /// `admin.user.factors_reset` (`before.factors`, `before.sessions`; `after.factors: []`), a
    /// retry too (as a disable's), so a record lost to a failed write is made by the retry.
    pub async fn reset_factors(&self, by: &Operator, username: &str, now: u64) -> Result<Person, AdminError> {
        let (mut user, activity) = self.read(username, now).await?;
        helpdesk_may(by, &user)?;
        let actor = &by.actor;
        // The factors first: should ending the sessions fail, no new session passes one.
        self.directory.reset_factors(&user.username).await?;
        let ended = self.end_everything(&user.username, now).await?;
        let before = json!({"factors": user.factors, "sessions": ended});
        self.record(EventType::AdminUserFactorsReset, actor, &user, before, json!({"factors": [], "sessions": 0}), now).await?;
        user.factors.clear();
        Ok(person(user, activity.signed_out()))
    }

    /// Requires the person to choose a new password (one someone else may know): Cognito stops
    /// taking the current one and mails a reset code to their verified email; their next
    /// sign-in with the old password asks for that code and a new password
    /// (`password_reset_required` on the form). Sign-ins under way are held, and every session,
    /// refresh token and console token of theirs ends. Not one's own; an operator only of someone
    /// with no console role ([`helpdesk_may`]). Refused (`Invalid`): a
    /// disabled account, one without a verified email (nowhere to send the code), one without a
    /// password of its own (Cognito's `FORCE_CHANGE_PASSWORD`: an invitation not taken up, or a
    /// company's person; `UNCONFIRMED`; `EXTERNAL_PROVIDER`), and any other status but
    /// `CONFIRMED` and `RESET_REQUIRED`. Recorded as
    /// `admin.user.password_reset_required` (`before.sessions`).
    pub async fn require_password_reset(&self, by: &Operator, username: &str, now: u64) -> Result<Person, AdminError> {
        let (mut user, activity) = self.read(username, now).await?;
        helpdesk_may(by, &user)?;
        let actor = &by.actor;
        if !user.enabled {
            return Err(AdminError::Invalid("the account is disabled: enable it first".into()));
        }
        // A reset already required may be required again (a new code replaces the last).
        match user.status.as_deref() {
            None | Some("CONFIRMED" | "RESET_REQUIRED") => {}
            Some("EXTERNAL_PROVIDER") => return Err(AdminError::Invalid("the person signs in through their company: it keeps their password".into())),
            Some("FORCE_CHANGE_PASSWORD" | "UNCONFIRMED") => {
                return Err(AdminError::Invalid(
                    "the person has no password of their own yet (an invitation not taken up, a company's person, or an account not confirmed)".into(),
                ));
            }
            Some(other) => return Err(AdminError::Invalid(format!("Cognito's status for the person, {other}, allows no reset"))),
        }
        if user.attributes.get("email_verified").and_then(Value::as_str) != Some("true") {
            return Err(AdminError::Invalid("the person has no verified email to send the reset code to".into()));
        }
        self.directory.require_password_reset(&user.username).await?;
        // Then, side by side (should one fail, the others are done; a retry does all again):
        // the code Cognito mailed is counted and its tries start again (wrong guesses at an
        // earlier code spend none of this one's); sign-ins under way are held; every session ends.
        let email = text(&user, "email").unwrap_or_default();
        let (counted, held, ended) =
            tokio::join!(self.codes.reset_code_sent(&email, now), self.sessions.credentials_changed(&user.username), self.end_everything(&user.username, now));
        if !counted? {
            tracing::info!("an admin's reset code went past the address's limit; its tries did not start again");
        }
        held?;
        let ended = ended?;
        self.record(EventType::AdminUserPasswordResetRequired, actor, &user, json!({"sessions": ended}), json!({"sessions": 0}), now).await?;
        user.status = Some("RESET_REQUIRED".into());
        Ok(person(user, activity.signed_out()))
    }

    /// Ends every bridge session, Cognito refresh token and console token of the person.
    pub async fn sign_out(&self, actor: &Actor, username: &str, now: u64) -> Result<Person, AdminError> {
        let (user, activity) = self.read(username, now).await?;
        let ended = self.end_everything(&user.username, now).await?;
        self.record(EventType::AdminUserSignedOut, actor, &user, json!({"sessions": ended}), json!({"sessions": 0}), now).await?;
        Ok(person(user, activity.signed_out()))
    }

    /// Ends one of the person's sessions, `id` ([`SessionSummary::id`]), then the refresh tokens
    /// of the OpenID Connect apps signed in through it (`signin::ports::end_session_families`):
    /// the browser holding it signs in again; their other sessions, console tokens and refresh
    /// tokens stay. `admin.user.signed_out` with `after.ended` the session's id and
    /// `after.apps_signed_out` how many apps' sign-ins ended. A session that is not the person's
    /// (or not live) is [`AdminError::NotFound`] and nothing ends.
    pub async fn end_session(&self, actor: &Actor, username: &str, id: &str, now: u64) -> Result<Person, AdminError> {
        if !crate::signin::session::is_digest(id) {
            return Err(AdminError::Invalid("a session id is 43 characters of base64url".into()));
        }
        let not_found = || AdminError::NotFound(format!("session `{id}` of person `{username}`"));
        let (user, mut activity) = self.read(username, now).await?;
        let before = activity.sessions.len();
        let at = activity.sessions.iter().position(|s| s.id == id).ok_or_else(not_found)?;
        // The list is read from an index, which may still show a session just ended or moved
        // to a new key: a delete that finds nothing ended nothing. The delete is the person's
        // only (its condition), whatever the list said.
        let ended = self.sessions.end_of(&user.username, id).await?.ok_or_else(not_found)?;
        let apps = crate::signin::ports::end_session_families(self.refresh.as_ref(), &ended).await;
        activity.sessions.remove(at);
        activity.connected.retain(|a| !a.sid.as_deref().is_some_and(|sid| ended.sids().any(|s| s == sid)));
        let after = json!({"sessions": activity.sessions.len(), "ended": id, "apps_signed_out": apps});
        self.record(EventType::AdminUserSignedOut, actor, &user, json!({"sessions": before}), after, now).await?;
        Ok(person(user, activity))
    }

    /// Gives the person console role `role` (and no other).
    pub async fn grant(&self, actor: &Actor, username: &str, role: Role, now: u64) -> Result<Person, AdminError> {
        let (mut user, activity) = self.read(username, now).await?;
        not_yourself(actor, &user)?;
        let before = Role::of(user.groups.iter().map(String::as_str));
        // The old role goes first: a failure in between leaves less access, never more.
        for other in Role::ALL.into_iter().filter(|r| *r != role && user.groups.iter().any(|g| g == r.group())) {
            self.directory.remove_from_group(&user.username, other.group()).await?;
        }
        self.directory.add_to_group(&user.username, role.group()).await?;
        self.record(EventType::AdminRoleGranted, actor, &user, json!({"role": before}), json!({"role": role}), now).await?;
        user.groups.retain(|g| Role::of([g.as_str()]).is_none());
        user.groups.push(role.group().to_owned());
        Ok(person(user, activity))
    }

    /// Takes every console role from the person and ends their sessions. The admin API asks
    /// Cognito for a console person's role again after `ADMIN_ROLE_TTL_SECONDS`.
    pub async fn revoke(&self, actor: &Actor, username: &str, now: u64) -> Result<Person, AdminError> {
        let (mut user, activity) = self.read(username, now).await?;
        not_yourself(actor, &user)?;
        let before = Role::of(user.groups.iter().map(String::as_str));
        // Sessions, console tokens and refresh tokens end first: a failure in between leaves the role, with
        // nothing signed in to use it, never the reverse unrecorded.
        self.end_everything(&user.username, now).await?;
        for role in Role::ALL.into_iter().filter(|r| user.groups.iter().any(|g| g == r.group())) {
            self.directory.remove_from_group(&user.username, role.group()).await?;
        }
        self.record(EventType::AdminRoleRevoked, actor, &user, json!({"role": before}), json!({"role": null}), now).await?;
        user.groups.retain(|g| Role::of([g.as_str()]).is_none());
        Ok(person(user, activity.signed_out()))
    }

    /// The person's account, live sessions, last sign-in and the OpenID Connect apps that keep
    /// them signed in, read side by side (by user name, or again by it when `username` was their
    /// email alias). The apps are a convenience: when they cannot be read the list is empty and
    /// the failure logged, so that nothing an operator does to the person waits on them.
    pub(super) async fn read(&self, username: &str, now: u64) -> Result<(PoolUser, Activity), AdminError> {
        check_username(username)?;
        let read = |name: &str| {
            let name = name.to_owned();
            async move { tokio::join!(self.directory.user(&name), self.sessions.of(&name), self.sessions.last_sign_in(&name), self.refresh.of_user(&name)) }
        };
        let (user, sessions, last, families) = read(username).await;
        let user = user?.ok_or_else(|| AdminError::NotFound(format!("person `{username}`")))?;
        // Found by an alias: read again by the account's own name, so that the groups (which
        // decide what an operator may do to them) are surely this account's, whatever moved
        // between the two side-by-side reads.
        let (user, sessions, last, families) = if user.username == username {
            (user, sessions, last, families)
        } else {
            let (again, sessions, last, families) = read(&user.username).await;
            (again?.ok_or_else(|| AdminError::NotFound(format!("person `{username}`")))?, sessions, last, families)
        };
        let mut sessions: Vec<SessionSummary> = sessions?.iter().filter(|(_, s)| s.live(now)).map(summary).collect();
        sessions.sort_by_key(|s| std::cmp::Reverse(s.created));
        let connected = match families {
            // A disabled account's refresh tokens are refused whatever they say.
            Ok(_) if !user.enabled => Vec::new(),
            Ok((families, signed_out_at)) => {
                let apps = self.apps_of(&families).await;
                family::connected(&apps, families, signed_out_at, text(&user, "sub").as_deref(), now)
            }
            Err(error) => {
                tracing::warn!(%error, "a person's connected apps could not be read: none shown");
                Vec::new()
            }
        };
        Ok((user, Activity { sessions, connected, last_sign_in: last? }))
    }

    /// Signs the person out of an OpenID Connect app that keeps them signed in: revokes the
    /// refresh tokens of one sign-in (`id`, a [`ConnectedApp`]'s), in one delete whose condition is
    /// that they are the person's (whatever the list read before it said).
    /// `admin.user.signed_out` (`before.connected`; `after.connected`, `after.sign_in`: `id`,
    /// `after.app_signed_out`: the app's id, when the list named it). The app's access token lives
    /// out its few minutes.
    ///
    /// Errors: `Invalid` for an id that cannot be one; `NotFound` for one not the person's (or
    /// gone), and nothing is revoked.
    pub async fn sign_out_app(&self, actor: &Actor, username: &str, id: &str, now: u64) -> Result<Person, AdminError> {
        if !crate::signin::session::is_digest(id) {
            return Err(AdminError::Invalid("a connected app's id is 43 characters of base64url".into()));
        }
        let (user, mut activity) = self.read(username, now).await?;
        if !self.refresh.revoke_of(&user.username, id).await? {
            return Err(AdminError::NotFound(format!("connected app `{id}` of person `{username}`")));
        }
        let before = activity.connected.len();
        let app = activity.connected.iter().position(|c| c.id == id).map(|at| activity.connected.remove(at).app);
        let after = json!({"connected": activity.connected.len(), "sign_in": id, "app_signed_out": app});
        self.record(EventType::AdminUserSignedOut, actor, &user, json!({"connected": before}), after, now).await?;
        Ok(person(user, activity))
    }

    /// The apps `families` are for (each read once, from the cache; none for a person without
    /// refresh tokens, most people). One that cannot be read is left out, and logged.
    async fn apps_of(&self, families: &[family::RefreshFamily]) -> Vec<crate::tokens::app::App> {
        let mut ids: Vec<&str> = families.iter().map(|f| f.client_id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let ids = ids.into_iter().filter_map(|id| crate::tokens::app::AppId::parse(id).ok());
        let read = futures_util::future::join_all(ids.map(|id| async move { self.apps.app(&id).await })).await;
        read.into_iter()
            .filter_map(|app| app.inspect_err(|error| tracing::warn!(%error, "an app of a person's refresh tokens could not be read")).ok().flatten())
            .map(std::sync::Arc::unwrap_or_clone)
            .collect()
    }

    /// Ends the person's bridge sessions and Cognito refresh tokens, and revokes their console
    /// tokens issued before `now`.
    async fn end_everything(&self, username: &str, now: u64) -> Result<usize, AdminError> {
        // Nothing is minted here: the mark is this clock's now, not the request's.
        let at = now.max(crate::common::time::unix_now());
        let (ended, signed_out) = tokio::join!(self.sessions.end_all(username, at), self.directory.sign_out(username));
        signed_out?;
        Ok(ended?)
    }

    pub(super) async fn record(&self, kind: EventType, actor: &Actor, user: &PoolUser, before: Value, after: Value, now: u64) -> Result<(), AdminError> {
        let record = AuditRecord::new(kind, actor, format!("user:{}", user.username), Some(before), Some(after), now);
        Ok(self.audit.record(&record, Some(event_user(user))).await?)
    }
}

/// What the bridge's table knows of a person: live sessions and last sign-in.
#[derive(Default)]
pub(super) struct Activity {
    sessions: Vec<SessionSummary>,
    connected: Vec<ConnectedApp>,
    last_sign_in: Option<u64>,
}

impl Activity {
    /// After the person was signed out everywhere (their sign-out mark written, or their
    /// account disabled): no session, and no app keeps them signed in.
    fn signed_out(self) -> Self {
        Self { sessions: Vec::new(), connected: Vec::new(), ..self }
    }
}

pub(super) fn person(mut user: PoolUser, activity: Activity) -> Person {
    user.groups.sort();
    Person {
        username: user.username.clone(),
        sub: text(&user, "sub"),
        email: text(&user, "email"),
        enabled: user.enabled,
        org: text(&user, crate::common::profile::ORG_ATTRIBUTE),
        role: Role::of(user.groups.iter().map(String::as_str)),
        groups: user.groups,
        factors: user.factors,
        status: user.status,
        sessions: activity.sessions,
        connected: activity.connected,
        last_sign_in: activity.last_sign_in,
    }
}

/// An operator never disables their own account or changes their own role (so the console
/// always keeps the admin who is using it; `bridge-admin` remains the way back).
fn not_yourself(actor: &Actor, user: &PoolUser) -> Result<(), AdminError> {
    match text(user, "sub") {
        Some(sub) if sub == actor.id => {
            Err(AdminError::Invalid("you cannot disable your own account, reset its second factors or password, or change your own role".into()))
        }
        _ => Ok(()),
    }
}

/// Whether `by` may reset `user`'s second factors or require a new password (the helpdesk's
/// actions): an admin of anyone but themselves; an operator only of someone with no console role
/// (as Okta's help desk admins), so an operator cannot lock an admin out or take over their
/// account's sign-in (`Forbidden`).
fn helpdesk_may(by: &Operator, user: &PoolUser) -> Result<(), AdminError> {
    not_yourself(&by.actor, user)?;
    match by.role {
        Role::Admin => Ok(()),
        Role::Operator if Role::of(user.groups.iter().map(String::as_str)).is_none() => Ok(()),
        _ => Err(AdminError::Forbidden),
    }
}

fn summary((id, session): &(String, Session)) -> SessionSummary {
    SessionSummary {
        id: id.clone(),
        method: session.method,
        created: session.created,
        last_seen: session.last_seen,
        expires_at: session.expires_at,
        second_factor: session.assurance.second_factor,
        high_risk: session.assurance.high_risk,
    }
}

/// A user name or email alias as a path may give it: 1 to 128 characters, no space or control
/// character; else [`AdminError::Invalid`].
pub fn check_username(username: &str) -> Result<(), AdminError> {
    if crate::directory::ports::is_cognito_name(username) { Ok(()) } else { Err(AdminError::Invalid("not a user name".into())) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::admin::audit::Via;

    #[test]
    fn the_helpdesk_resets_only_people_without_a_console_role_and_never_themselves() {
        let by = |role: Role| Operator { actor: Actor { id: "me".into(), email: None, ip: None, via: Via::Api }, username: "me".into(), role };
        let person = |sub: &str, groups: &[&str]| PoolUser {
            username: sub.into(),
            enabled: true,
            attributes: json!({"sub": sub}).as_object().cloned().unwrap_or_default(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            factors: Vec::new(),
            status: None,
        };
        let may = |role, groups: &[&str]| helpdesk_may(&by(role), &person("them", groups)).is_ok();
        assert!(may(Role::Operator, &[]) && may(Role::Operator, &["app:support:agent", "Bridge-Admin"]), "no console role (names are exact)");
        for groups in [&["bridge-viewer"][..], &["bridge-operator"], &["bridge-admin"], &["staff", "bridge-operator"]] {
            assert!(!may(Role::Operator, groups), "{groups:?}");
            assert!(may(Role::Admin, groups), "{groups:?}");
        }
        assert!(!may(Role::Viewer, &[]));
        assert!(matches!(helpdesk_may(&by(Role::Admin), &person("me", &[])), Err(AdminError::Invalid(_))), "never oneself");
    }
}
