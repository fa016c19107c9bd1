//! The workflows' [`Mailer`] over Amazon SES (API v2 `SendEmail`, simple content, UTF-8): one
//! plain-text message per call from the deployment's sender (`EMAIL_FROM`), on the SES identity
//! it belongs to (`EMAIL_IDENTITY_ARN`, the one the user pool sends from too). SES identities
//! are regional, so the client speaks to the identity's region, whatever the function's.
//!
//! `SendEmail` is not idempotent, so the client makes one attempt per call (the step's retry
//! policy is the only one) and only a call that cannot have reached SES is worth another:
//! throttling (`TooManyRequestsException`), SES's own failures and a connection never made. A
//! call that timed out or whose answer was unreadable may have sent the message: it is final
//! (replayable), so the person is not mailed the same notice again and again. Every other
//! refusal (`MessageRejected`, a sender not verified, sending paused, the daily quota spent:
//! `LimitExceededException`) is final too.

use async_trait::async_trait;
use aws_sdk_sesv2::error::SdkError;
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
        let mut config = aws_sdk_sesv2::config::Builder::from(sdk).retry_config(aws_smithy_types::retry::RetryConfig::disabled());
        if let Some(region) = identity_arn.split(':').nth(3).filter(|r| !r.is_empty()) {
            config = config.region(aws_types::region::Region::new(region.to_owned()));
        }
        Self::with_client(aws_sdk_sesv2::Client::from_conf(config.build()), from, identity_arn)
    }

    fn with_client(client: aws_sdk_sesv2::Client, from: &str, identity_arn: &str) -> Self {
        Self { client, from: from.to_owned(), identity_arn: identity_arn.to_owned() }
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, to: &Email, subject: &str, text: &str) -> Result<String, MailError> {
        let utf8 = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let (Ok(subject), Ok(text)) = (utf8(subject), utf8(text)) else { return Err(MailError::Refused("the message could not be built".into())) };
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
            Err(SdkError::DispatchFailure(_)) => Err(MailError::Busy("SES could not be reached".into())),
            Err(e @ (SdkError::TimeoutError(_) | SdkError::ResponseError(_))) => {
                Err(MailError::Refused(format!("{}: the message may have been sent; replay the run to send it again", Failure::of(&e).describe())))
            }
            Err(e) => Err(match Failure::of(&e) {
                f if f.is_throttling() => MailError::Busy(f.describe()),
                Failure::Service { code } if matches!(code.as_str(), "InternalFailure" | "ServiceUnavailable" | "InternalServerError") => MailError::Busy(code),
                other => MailError::Refused(other.describe()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sesv2::Client;
    use aws_sdk_sesv2::operation::send_email::{SendEmailError, SendEmailInput, SendEmailOutput};
    use aws_sdk_sesv2::types::error::{MessageRejected, TooManyRequestsException};
    use aws_smithy_mocks::{RuleMode, mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    fn to(address: &str) -> Email {
        Email::parse(address).unwrap_or_else(|e| panic!("{e}"))
    }

    fn meta(code: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).build()
    }

    fn addressed_to(r: &SendEmailInput, address: &str) -> bool {
        r.destination().map(|d| d.to_addresses()) == Some(&[address.to_owned()][..])
    }

    #[tokio::test]
    async fn sent_throttled_and_refused_read_as_the_runner_needs() {
        let sent = mock!(Client::send_email)
            .match_requests(|r| {
                let simple = r.content().and_then(|c| c.simple());
                addressed_to(r, "hanako@example.com")
                    && r.from_email_address() == Some("Acme <no-reply@acme.example>")
                    && simple.and_then(|m| m.subject()).map(|s| (s.data(), s.charset())) == Some(("件名", Some("UTF-8")))
                    && simple.and_then(|m| m.body()).and_then(|b| b.text()).map(|t| t.data()) == Some("本文")
                    && simple.and_then(|m| m.body()).and_then(|b| b.html()).is_none()
            })
            .then_output(|| SendEmailOutput::builder().message_id("m-1").build());
        let busy = mock!(Client::send_email)
            .match_requests(|r| addressed_to(r, "busy@example.com"))
            .then_error(|| SendEmailError::TooManyRequestsException(TooManyRequestsException::builder().meta(meta("TooManyRequestsException")).build()));
        let rejected = mock!(Client::send_email)
            .match_requests(|r| addressed_to(r, "rejected@example.com"))
            .then_error(|| SendEmailError::MessageRejected(MessageRejected::builder().meta(meta("MessageRejected")).build()));
        let client = mock_client!(aws_sdk_sesv2, RuleMode::MatchAny, [&sent, &busy, &rejected]);
        let mailer = SesMailer::with_client(client, "Acme <no-reply@acme.example>", "arn:aws:ses:ap-northeast-1:1:identity/acme.example");
        assert_eq!(mailer.send(&to("hanako@example.com"), "件名", "本文").await, Ok("m-1".into()));
        assert!(matches!(mailer.send(&to("busy@example.com"), "s", "t").await, Err(MailError::Busy(_))));
        assert!(matches!(mailer.send(&to("rejected@example.com"), "s", "t").await, Err(MailError::Refused(why)) if why == "MessageRejected"));
    }
}
