//! What a corporate sign-in answers when it cannot go on ([`CorporateError`]).

use crate::common::store::StoreError;
use crate::directory::ports::DirectoryError;
use crate::signin::flow::FlowError;
use crate::signin::oidc::ClaimError;
use crate::signin::ports::OidcError;

#[derive(Debug, thiserror::Error)]
pub enum CorporateError {
    #[error("invalid input: {0}")]
    BadInput(&'static str),
    #[error("no organisation signs in with this email domain")]
    UnknownDomain,
    #[error("the organisation has no sign-in connection")]
    NotConnected,
    #[error("corporate sign-in is not configured (no public API URL)")]
    Unconfigured,
    #[error(transparent)]
    Flow(#[from] FlowError),
    /// Unknown, used, expired or foreign `state`, or another browser's.
    #[error("the sign-in state is not valid")]
    InvalidState,
    /// The flow to the provider was brought by another browser than the one whose form asked for it.
    #[error("the corporate sign-in was started in another browser")]
    OtherBrowser,
    #[error("the provider answered with an error: {0}")]
    ProviderDenied(String),
    #[error(transparent)]
    Provider(#[from] OidcError),
    #[error(transparent)]
    Claims(#[from] ClaimError),
    #[error("the email's domain is not the organisation's")]
    OutsideDomain,
    #[error("the person is not provisioned")]
    NotProvisioned,
    #[error("the person is deactivated")]
    Deactivated,
    #[error("the email belongs to a user of another organisation")]
    OtherOrganisation,
    #[error("the provider does not vouch for the email (email_verified), so it finds no account")]
    EmailNotVerified,
    #[error("the person came through another of the pool's providers than the connection's")]
    OtherProvider,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Directory(#[from] DirectoryError),
}
