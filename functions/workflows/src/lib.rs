//! The workflow runner Lambda: the table's stream delivers identity events (`EVENT#` items) and
//! the runner runs the flows that apply (`shared::workflows`); it also delivers the ends of bridge
//! sessions, which OpenID Connect clients are told of ([`logouts`]).

pub mod handler;
#[cfg(feature = "local")]
pub mod local_stream;
pub mod logouts;
pub mod state;
