//! Who may do what in the console and the admin API. A console person is a Cognito user of the
//! pool in one of three groups (given and taken by `bridge-admin admin grant|revoke`):
//!
//! | role       | group             | may                                                           |
//! |------------|-------------------|---------------------------------------------------------------|
//! | `admin`    | `bridge-admin`    | everything                                                    |
//! | `operator` | `bridge-operator` | read everything; activate hooks, replay runs, sign people out; reset the second factors or require a new password of people without a console role |
//! | `viewer`   | `bridge-viewer`   | read everything                                               |
//!
//! A person in several groups has the strongest of their roles.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
    Admin,
}

/// What a request does, as far as roles are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Any read (secrets are never readable by anyone).
    Read,
    /// Sign a person out everywhere.
    SignOutPerson,
    /// Activate or deactivate a telephony hook.
    ActivateHook,
    /// Replay a failed workflow run.
    ReplayRun,
    /// Reset a person's second factors, or require a new password of them (the helpdesk's
    /// actions): admins of anyone, operators of people with no console role (the person is
    /// checked where they are read: `admin::people`).
    ResetCredentials,
    /// Read many people's personal data at once (a consent version's records: emails, IP
    /// addresses, user agents), each page audited: admins only.
    ExportPersonalData,
    /// Any other change.
    Change,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Operator, Role::Viewer];

    /// The Cognito group that gives this role.
    pub fn group(self) -> &'static str {
        match self {
            Role::Admin => "bridge-admin",
            Role::Operator => "bridge-operator",
            Role::Viewer => "bridge-viewer",
        }
    }

    /// `admin`, `operator` or `viewer`.
    pub fn parse(raw: &str) -> Option<Role> {
        Self::ALL.into_iter().find(|r| r.name() == raw)
    }

    pub fn name(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Viewer => "viewer",
        }
    }

    /// The strongest role the groups give, if any.
    pub fn of<'a>(groups: impl IntoIterator<Item = &'a str>) -> Option<Role> {
        groups.into_iter().filter_map(|g| Self::ALL.into_iter().find(|r| r.group() == g)).max()
    }

    pub fn may(self, action: Action) -> bool {
        matches!(
            (self, action),
            (Role::Admin, _)
                | (_, Action::Read)
                | (Role::Operator, Action::SignOutPerson | Action::ActivateHook | Action::ReplayRun | Action::ResetCredentials)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_strongest_group_wins_and_other_groups_give_nothing() {
        assert_eq!(Role::of(["bridge-viewer", "bridge-admin", "staff"]), Some(Role::Admin));
        assert_eq!(Role::of(["bridge-operator"]), Some(Role::Operator));
        assert_eq!(Role::of(["Bridge-Admin", "bridge-admins", "admin", ""]), None);
        // Workflows refuse groups with the reserved prefix: every role's group has it.
        assert!(Role::ALL.iter().all(|r| r.group().starts_with(crate::directory::ports::RESERVED_GROUP_PREFIX)));
    }

    #[test]
    fn each_role_may_exactly_what_the_table_says() {
        use Action::*;
        let actions = [Read, SignOutPerson, ActivateHook, ReplayRun, ResetCredentials, ExportPersonalData, Change];
        let allowed = |role: Role| actions.iter().map(|a| role.may(*a)).collect::<Vec<_>>();
        assert_eq!(allowed(Role::Admin), [true; 7]);
        assert_eq!(allowed(Role::Operator), [true, true, true, true, true, false, false]);
        assert_eq!(allowed(Role::Viewer), [true, false, false, false, false, false, false]);
    }
}
