//! One-time codes through the operator's own SMS provider: the hook contract, the custom SMS
//! sender that decrypts Cognito's codes and calls the hook, the AWS Encryption SDK message
//! reader it uses.

pub mod encryption_sdk;
pub mod hook;
pub mod ports;
pub mod sms_sender;
