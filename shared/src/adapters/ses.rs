//! The workflows' [`Mailer`] over Amazon SES (API v2 `SendEmail`, simple content, UTF-8): one
//! plain-text message per call from the deployment's sender (`EMAIL_FROM`), on the SES identity
//! it belongs to (`EMAIL_IDENTITY_ARN`, the one the user pool sends from too). SES identities
//! are regional, so the client speaks to the identity's region, whatever the function's.
//!
//! Throttling (`TooManyRequestsException`), SES's own failures and no answer are worth another
//! try; every other refusal (`MessageRejected`, a sender not verified, sending paused, the
//! daily quota spent: `LimitExceededException`) is final, and the run can be replayed.

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};

use crate::adapters::aws::Failure;
use crate::common::email::Email;
use crate::workflows::email_step::{MailError, Mailer};

pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    identity_arn: String,
}

impl SesMailer {
    /// A mailer sending as `from` on the identity `identity_arn`
    /// (`arn:aws:ses:{region}:{account}:identity/{domain or address}`), in that identity's
    /// region (the function's when the ARN names none).
    pub fn new(sdk: &aws_config::SdkConfig, from: &str, identity_arn: &str) -> Self {
        let mut config = aws_sdk_sesv2::config::Builder::from(sdk);
        if let Some(region) = identity_arn.split(':').nth(3).filter(|r| !r.is_empty()) {
            config = config.region(aws_types::region::Region::new(region.to_owned()));
        }
        Self { client: aws_sdk_sesv2::Client::from_conf(config.build()), from: from.to_owned(), identity_arn: identity_arn.to_owned() }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, to: &Email, subject: &str, text: &str) -> Result<String, MailError> {
        let utf8 = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let (subject, text) = (utf8(subject), utf8(text));
        let (Ok(subject), Ok(text)) = (subject, text) else { return Err(MailError::Refused("the message could not be built".into())) };
        let message = Message::builder().subject(subject).body(Body::builder().text(text).build()).build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .from_email_address_identity_arn(&self.identity_arn)
            .destination(Destination::builder().to_addresses(to.as_str()).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(out) => Ok(out.message_id.unwrap_or_default()),
            Err(e) => Err(match Failure::of(&e) {
                f @ Failure::Transport(_) => MailError::Busy(f.describe()),
                f if f.is_throttling() => MailError::Busy(f.describe()),
                Failure::Service { code } if matches!(code.as_str(), "InternalFailure" | "ServiceUnavailable" | "InternalServerError") => MailError::Busy(code),
                other => MailError::Refused(other.describe()),
            }),
        }
    }
}
