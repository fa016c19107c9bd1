//! The workflow runner Lambda: the table's stream delivers identity events (`EVENT#` items) and
//! the runner runs the flows that apply (`shared::workflows`). Beside it, on the same stream, the
//! session-ends Lambda ([`session_ends`]): what follows each bridge session's end.

pub mod handler;
#[cfg(feature = "local")]
pub mod local_stream;
pub mod session_ends;
pub mod state;
