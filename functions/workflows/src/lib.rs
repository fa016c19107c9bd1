//! The workflow runner Lambda: the table's stream delivers identity events (`EVENT#` items) and
//! the runner runs the flows that apply (`shared::workflows`).

pub mod handler;
#[cfg(feature = "local")]
pub mod local_stream;
pub mod state;
