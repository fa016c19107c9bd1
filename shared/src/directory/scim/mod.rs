//! SCIM 2.0 (RFC 7643/7644) building blocks, free of HTTP and storage.

pub mod directory_user;
pub mod error;
pub mod events;
pub mod filter;
pub mod patch;
pub mod query;
pub mod resource;
pub mod schema;
pub mod service;
pub mod sync;
