//! A sign-in's family of refresh tokens at an OpenID Connect client ([`RefreshFamily`]: what
//! is stored, and what each refresh decides on), the scopes a refresh may ask for, and the apps
//! that keep a person signed in as people see them ([`connected`]). No I/O:
//! `openid_provider::refresh` uses them, `SignInPorts::refresh` stores the families.

use serde::{Deserialize, Serialize};

use crate::tokens::app::App;
use crate::tokens::targets::Target;

/// The refresh tokens of one sign-in at one client: what each refresh reads (the claims are read
/// from the account each time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefreshFamily {
    /// Random (base64url), the family's key.
    pub id: String,
    pub client_id: String,
    /// The Cognito user name, and the account's `sub` then: a later account under the same name
    /// is not the person.
    pub username: String,
    pub subject: String,
    /// The scopes granted, space-separated.
    pub scope: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<u64>,
    pub amr: Vec<String>,
    /// When its code was issued (the end of the sign-in, or a bridge session's entry into the
    /// client), and when the family ends (seconds since the epoch).
    pub signed_in_at: u64,
    pub expires_at: u64,
    /// The generation whose token works (the first is 0).
    pub generation: u64,
    /// When its last refresh was (seconds since the epoch; 0: none yet).
    #[serde(default)]
    pub last_used: u64,
    /// The bridge session of the sign-in (`Session::sid`): ending that session revokes the family.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl RefreshFamily {
    /// Why the family no longer stands at `now` (seconds since the epoch) for its client `app`
    /// (its lifetime over, unused for the client's idle time, the client's refresh tokens turned
    /// off, shortened or made again, the person signed out since),
    /// the person having last signed out of the bridge at `signed_out_at` (the mark every
    /// bridge sign-out and sign-out everywhere writes); `None` while it stands. Whole seconds: a
    /// sign-out or a change of the client in the same second as the sign-in does not end it.
    pub fn ended(&self, app: &App, signed_out_at: Option<u64>, now: u64) -> Option<&'static str> {
        // The client's lifetime now: one shortened since refuses a family given the longer one
        // (also by a function that read the app before the change).
        let lifetime = app.refresh_token_lifetime();
        let idle = if let Target::Oidc(client) = &app.target { client.refresh_token_idle_seconds } else { None };
        if self.expires_at <= now {
            Some("the refresh tokens' lifetime is over")
        } else if idle.is_some_and(|idle| self.last_used.max(self.signed_in_at) + idle <= now) {
            Some("the refresh tokens went unused for longer than the client's idle time")
        } else if self.expires_at.saturating_sub(self.signed_in_at) > lifetime || app.refresh_tokens_not_before.is_some_and(|at| self.signed_in_at < at) {
            Some("the client's refresh tokens were turned off or shortened since")
        } else if signed_out_at.is_some_and(|at| self.signed_in_at < at) {
            Some("the person signed out of the bridge since")
        } else {
            None
        }
    }
}

/// An OpenID Connect app that keeps a person signed in: one sign-in's refresh tokens (a family
/// still standing), as the person and the operators see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectedApp {
    /// The family's id (it opens nothing), for signing the app out.
    pub id: String,
    pub app: String,
    /// The app's name.
    pub name: String,
    /// When that sign-in was, and when its tokens end at the latest (seconds since the epoch).
    pub since: u64,
    pub until: u64,
    /// The bridge session of the sign-in (not shown).
    #[serde(skip)]
    pub sid: Option<String>,
}

/// The families of the account whose `sub` is `subject` still standing at `now`, the person
/// having last signed out of the bridge at `signed_out_at`, each for an OpenID Connect app of
/// `apps`, newest first: the apps that keep them signed in (the account page, the operators'
/// person page).
pub fn connected(apps: &[App], families: Vec<RefreshFamily>, signed_out_at: Option<u64>, subject: Option<&str>, now: u64) -> Vec<ConnectedApp> {
    let mut connected: Vec<ConnectedApp> = families
        .into_iter()
        .filter(|f| Some(f.subject.as_str()) == subject)
        .filter_map(|f| {
            let app = apps.iter().find(|a| a.id.as_str() == f.client_id).filter(|a| f.ended(a, signed_out_at, now).is_none())?;
            Some(ConnectedApp { id: f.id, app: f.client_id, name: app.name.clone(), since: f.signed_in_at, until: f.expires_at, sid: f.sid })
        })
        .collect();
    connected.sort_by(|a, b| b.since.cmp(&a.since).then_with(|| a.id.cmp(&b.id)));
    connected
}

/// What a code or a refresh token brought a second time is told (`invalid_grant`): the same
/// for both, so a client learns nothing of what the first exchange gave.
pub const USED: &str = "the grant was used before";

/// A refresh asked for a scope its sign-in was not granted, or none without `openid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidScope;

/// The scopes of a refresh: `asked` (space-separated), each one `granted`, in the order granted;
/// all of `granted` when none is asked. Errors: `invalid_scope` for one not granted, or without
/// `openid` (RFC 6749 §6).
pub fn narrowed(granted: &str, asked: Option<&str>) -> Result<String, InvalidScope> {
    let Some(asked) = asked else { return Ok(granted.to_owned()) };
    let asked: Vec<&str> = asked.split(' ').filter(|s| !s.is_empty()).collect();
    let granted: Vec<&str> = granted.split(' ').collect();
    if !asked.contains(&"openid") || asked.iter().any(|s| !granted.contains(s)) {
        return Err(InvalidScope);
    }
    Ok(granted.into_iter().filter(|s| asked.contains(s)).collect::<Vec<_>>().join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The apps that keep a person signed in: their own sign-ins only, still standing, of apps
    /// that exist and give refresh tokens, newest first.
    #[test]
    fn connected_apps_are_the_persons_own_sign_ins_still_standing_newest_first() {
        let app = |id: &str, lifetime: Option<u64>| -> crate::tokens::app::App {
            let target = serde_json::json!({"kind": "oidc", "redirect_uris": ["https://tool.example.com/cb"], "refresh_token_lifetime_seconds": lifetime});
            serde_json::from_value(serde_json::json!({"id": id, "name": format!("{id} app"), "target": target, "allowed_origins": []}))
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let apps = [app("tool", Some(3_600)), app("off", None)];
        let family = |id: &str, client: &str, subject: &str, signed_in_at: u64| RefreshFamily {
            id: id.into(),
            client_id: client.into(),
            username: "hanako".into(),
            subject: subject.into(),
            scope: "openid offline_access".into(),
            auth_time: None,
            amr: vec!["pwd".into()],
            signed_in_at,
            expires_at: signed_in_at + 3_600,
            generation: 0,
            last_used: 0,
            sid: None,
        };
        let families = vec![
            family("older", "tool", "s", 1_000),
            family("newer", "tool", "s", 1_500),
            family("expired", "tool", "s", 10),
            family("signed-out", "tool", "s", 900),
            family("another-account", "tool", "s-before", 1_200),
            family("client-off", "off", "s", 1_200),
            family("app-gone", "gone", "s", 1_200),
        ];
        let listed = connected(&apps, families, Some(950), Some("s"), 2_000);
        let ids: Vec<&str> = listed.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["newer", "older"]);
        assert_eq!((listed[0].name.as_str(), listed[0].since, listed[0].until), ("tool app", 1_500, 5_100));
    }

    #[test]
    fn a_family_ends_with_its_lifetime_the_clients_setting_and_the_persons_sign_out() {
        let app = |lifetime: Option<u64>, stamp: Option<u64>| -> App {
            let target = serde_json::json!({"kind": "oidc", "redirect_uris": ["https://tool.example.com/cb"], "refresh_token_lifetime_seconds": lifetime});
            let mut app: App = serde_json::from_value(serde_json::json!({"id": "tool", "name": "Tool", "target": target, "allowed_origins": []}))
                .unwrap_or_else(|e| panic!("{e}"));
            app.refresh_tokens_not_before = stamp;
            app
        };
        let family = RefreshFamily {
            id: "f".into(),
            client_id: "tool".into(),
            username: "hanako".into(),
            subject: "s".into(),
            scope: "openid".into(),
            auth_time: None,
            amr: vec![],
            signed_in_at: 1_000,
            expires_at: 1_000 + 86_400,
            generation: 0,
            last_used: 0,
            sid: None,
        };
        let day = Some(86_400);
        assert_eq!(family.ended(&app(day, Some(1_000)), Some(1_000), 2_000), None, "standing (marks to the second)");
        assert!(family.ended(&app(day, None), None, 1_000 + 86_400).is_some(), "its lifetime over");
        assert!(family.ended(&app(None, None), None, 2_000).is_some(), "the client's refresh tokens off");
        assert!(family.ended(&app(Some(3_600), None), None, 2_000).is_some(), "shortened, though not stamped yet");
        assert!(family.ended(&app(day, Some(1_001)), None, 2_000).is_some(), "stamped after the sign-in");
        assert!(family.ended(&app(day, None), Some(1_001), 2_000).is_some(), "signed out after the sign-in");
        // Unused for the client's idle time: from the sign-in, then from the last refresh.
        let idle = |idle: u64| -> App {
            let mut app = app(day, None);
            if let Target::Oidc(client) = &mut app.target {
                client.refresh_token_idle_seconds = Some(idle);
            }
            app
        };
        assert!(family.ended(&idle(600), None, 1_599).is_none() && family.ended(&idle(600), None, 1_600).is_some(), "idle from the sign-in");
        let used = RefreshFamily { last_used: 1_500, ..family.clone() };
        assert!(used.ended(&idle(600), None, 2_099).is_none() && used.ended(&idle(600), None, 2_100).is_some(), "idle from the last refresh");
    }

    #[test]
    fn a_refresh_may_narrow_its_scopes_never_widen_them() {
        let granted = "openid email profile offline_access";
        assert_eq!(narrowed(granted, None), Ok(granted.to_owned()));
        assert_eq!(narrowed(granted, Some("profile  openid")), Ok("openid profile".to_owned()));
        assert_eq!(narrowed(granted, Some("openid phone")), Err(InvalidScope));
        assert_eq!(narrowed(granted, Some("email")), Err(InvalidScope), "no openid: no ID token");
    }
}
