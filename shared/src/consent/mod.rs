//! Consent to the operator's documents (terms of service, privacy policy, marketing): the
//! versioned documents ([`document`]), what a person has accepted as their ID token carries it
//! ([`mirror`]), and the records that are the truth ([`ports`]). The sign-in step that asks for
//! it is `signin::consent`; publishing and exporting is `admin::consent`.
//!
//! Not here: HTTP, DynamoDB (`adapters::dynamo::consents`), Cognito.

pub mod current;
pub mod decision;
pub mod document;
pub mod mirror;
pub mod ports;
