//! The emails Cognito sends people (sign-up and resent codes, password reset, attribute
//! verification, invitations, sign-in codes), in the person's language, from templates the
//! operator may change: [`email`] holds the kinds, the templates shipped with the bridge, the
//! checks on an operator's template and the rendering; [`ports`] the store of the operator's
//! templates. The Cognito `CustomMessage` trigger renders them; Cognito sends them (through the
//! pool's email configuration). Not the SMS texts (`telephony`), not the form's messages
//! (`static-form/i18n.js`).

pub mod custom_message;
pub mod email;
pub mod ports;
