//! The vocabulary every capability shares: email addresses, the person's profile attributes and
//! language,
//! times, hashes, secure URLs, secret references and the store error. It depends on no other
//! room of this crate.

pub mod email;
pub mod errors;
pub mod hashing;
pub mod language;
pub mod profile;
pub mod random;
pub mod secrets;
pub mod secure_url;
pub mod sms_destinations;
pub mod store;
pub mod time;
