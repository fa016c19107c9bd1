//! One Cognito custom SMS sender invocation. A delivered code (or a retry of one already
//! delivered) answers success; a code no hook delivered, or that could not be opened, is an
//! error, so the invocation is retried. An event that is not a custom SMS sender event, or one for
//! a number outside the allowed SMS destinations, is logged and answered (a retry would not
//! change it).

use serde_json::Value;
use shared::telephony::sms_sender::{SendError, Sent, SmsSender};
use std::time::Instant;

/// Handles `event`; every hook call ends before `deadline`.
pub async fn handle(sender: &SmsSender, event: &Value, now: u64, deadline: Instant) -> Result<Value, SendError> {
    match sender.send(event, now, deadline).await {
        Ok(Sent::Delivered { hook, fell_back }) => {
            tracing::info!(%hook, fell_back, "one-time code delivered");
            Ok(Value::Null)
        }
        Ok(Sent::Duplicate) => Ok(Value::Null),
        // Logged by the sender, with the number masked.
        Err(SendError::Destination) => Ok(Value::Null),
        Err(SendError::NotOurs(why)) => {
            tracing::error!(why, trigger = event["triggerSource"].as_str().unwrap_or_default(), "not a custom SMS sender event; ignored");
            Ok(Value::Null)
        }
        Err(e) => {
            tracing::error!(error = %e, "one-time code not delivered");
            Err(e)
        }
    }
}
