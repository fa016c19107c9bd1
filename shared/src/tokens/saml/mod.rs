//! SAML 2.0 as an identity provider speaks it (the Web Browser SSO Profile): reading a service
//! provider's `AuthnRequest`, writing our signed `Response` and our metadata. What an app
//! registers and how its sign-in uses these is the `saml` kind's (`tokens::targets::saml`).

pub mod authn_request;
pub mod response;
pub mod signed_xml;
