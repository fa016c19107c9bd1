//! Opening AWS Encryption SDK messages (`telephony::encryption_sdk`) with a KMS keyring: the data
//! key is unwrapped by KMS `Decrypt`, with the message's encryption context, and only with a key
//! this keyring was given (the user pool's custom sender key). One KMS call per message.

use aws_sdk_kms::Client;
use aws_sdk_kms::primitives::Blob;
use secrecy::SecretString;

use crate::adapters::aws::Failure;
use crate::telephony::encryption_sdk::{EsdkError, Message};

#[derive(Debug, thiserror::Error)]
pub enum KeyringError {
    #[error(transparent)]
    Message(#[from] EsdkError),
    #[error("the message has no data key encrypted under this keyring's KMS keys")]
    NoKey,
    #[error("KMS refused or failed to decrypt the data key: {0}")]
    Kms(String),
    #[error("the plaintext is not text")]
    NotText,
}

pub struct KmsKeyring {
    client: Client,
    /// The KMS key ARNs this keyring may use.
    keys: Vec<String>,
}

impl KmsKeyring {
    pub fn new(client: Client, keys: Vec<String>) -> Self {
        Self { client, keys }
    }

    /// The text a message holds (a one-time code), after every check of the message.
    pub async fn decrypt(&self, message: &[u8]) -> Result<SecretString, KeyringError> {
        let message = Message::parse(message)?;
        let key = message.keys.iter().find(|k| k.provider == "aws-kms" && self.keys.contains(&k.key_info)).ok_or(KeyringError::NoKey)?;
        let out = self
            .client
            .decrypt()
            .key_id(&key.key_info)
            .ciphertext_blob(Blob::new(key.ciphertext.clone()))
            .set_encryption_context(Some(message.context_map()))
            .send()
            .await
            .map_err(|e| KeyringError::Kms(Failure::of(&e).describe()))?;
        let data_key = out.plaintext.ok_or_else(|| KeyringError::Kms("no plaintext".into()))?;
        let plaintext = message.decrypt(data_key.as_ref())?;
        String::from_utf8(plaintext).map(SecretString::from).map_err(|_| KeyringError::NotText)
    }
}

#[async_trait::async_trait]
impl crate::telephony::ports::CodeOpener for KmsKeyring {
    async fn open(&self, message: &[u8]) -> Result<SecretString, String> {
        self.decrypt(message).await.map_err(|e| e.to_string())
    }
}
