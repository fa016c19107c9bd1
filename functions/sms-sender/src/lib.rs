//! The custom SMS sender Lambda: Cognito hands it every one-time code (encrypted under the
//! pool's KMS key) and it delivers the code through the operator's active telephony hook
//! (`shared::telephony::sms_sender`). This crate only wires the sender to AWS and reads Lambda's
//! deadline; the sending itself is the shared domain's.

pub mod handler;
pub mod state;
