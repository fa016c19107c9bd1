//! Reading AWS Encryption SDK messages: the format Cognito's custom sender triggers encrypt each
//! one-time code in (under the pool's KMS key). Only decryption, and only what those messages
//! use: framed content, the message format 2.0 committing suites
//! (`AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384`, the SDKs' default, and its unsigned sibling)
//! and the 1.0 suites with HKDF (`..._HKDF_SHA384_ECDSA_P384`, which a production Cognito message
//! in awslabs/aws-sdk-rust#1250 uses, and `..._HKDF_SHA256`). It is proved against the official
//! SDK (`tests/integration/sms_sender.rs`: 48 messages of every suite, frame length and context
//! size, and a mutation fuzzer); AWS's own Rust SDK (`aws-esdk`) would add 3.3 MB to the zip.
//!
//! [`Message::parse`] reads the header (encryption context, encrypted data keys); the caller
//! unwraps one data key with KMS (`adapters::kms_keyring`) and [`Message::decrypt`] checks the
//! key commitment, the header's authentication tag, every frame and the signature before it
//! returns any plaintext. A message that fails any check yields nothing.
//!
//! Layout (big-endian): version, [type 0x80 in 1.0], suite id (2), message id (16 in 1.0, 32 in
//! 2.0), encryption context (length-prefixed pairs), encrypted data keys, content type (2 =
//! framed), [reserved 4 + IV length 1 in 1.0], frame length (4), [commitment key (32) in 2.0],
//! header authentication ([IV in 1.0] + tag); frames (sequence number, IV, content, tag; the
//! final one marked 0xFFFFFFFF with its content length); footer (signature length + DER ECDSA).

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use aws_lc_rs::{hkdf, signature};
use base64::Engine;

/// More encrypted data keys than this is not a message we made (Cognito writes one).
const MAX_KEYS: usize = 16;
/// Codes are a few bytes; a message this large is not one.
const MAX_PLAINTEXT: usize = 64 * 1024;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const FINAL_FRAME: u32 = 0xFFFF_FFFF;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EsdkError {
    #[error("not an AWS Encryption SDK message: {0}")]
    Malformed(&'static str),
    #[error("unsupported algorithm suite {0:#06x}")]
    UnsupportedSuite(u16),
    #[error("the message does not authenticate: {0}")]
    Tampered(&'static str),
}

/// An algorithm suite this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Suite {
    id: u16,
    kdf: hkdf::Algorithm,
    committing: bool,
    signed: bool,
}

fn suite(id: u16) -> Result<Suite, EsdkError> {
    let (kdf, committing, signed) = match id {
        0x0578 => (hkdf::HKDF_SHA512, true, true),
        0x0478 => (hkdf::HKDF_SHA512, true, false),
        0x0378 => (hkdf::HKDF_SHA384, false, true),
        0x0178 => (hkdf::HKDF_SHA256, false, false),
        other => return Err(EsdkError::UnsupportedSuite(other)),
    };
    Ok(Suite { id, kdf, committing, signed })
}

/// One encrypted copy of the data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedDataKey {
    /// `aws-kms` for KMS.
    pub provider: String,
    /// For KMS: the key's ARN.
    pub key_info: String,
    pub ciphertext: Vec<u8>,
}

/// A parsed message, not yet decrypted.
#[derive(Debug)]
pub struct Message<'a> {
    bytes: &'a [u8],
    suite: Suite,
    message_id: &'a [u8],
    /// The encryption context, in the message's order (sorted by key).
    pub context: Vec<(String, String)>,
    pub keys: Vec<EncryptedDataKey>,
    frame_length: usize,
    commitment: Option<&'a [u8]>,
    /// The header body's end (what the header tag authenticates).
    header_end: usize,
    header_iv: [u8; IV_LEN],
    header_tag: &'a [u8],
    /// Where the frames start.
    body_start: usize,
}

/// A cursor over the message's bytes.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EsdkError> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len()).ok_or(EsdkError::Malformed("cut short"))?;
        let out = &self.bytes[self.at..end];
        self.at = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8, EsdkError> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, EsdkError> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Result<u32, EsdkError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn short_bytes(&mut self) -> Result<&'a [u8], EsdkError> {
        let n = self.u16()? as usize;
        self.take(n)
    }
    fn text(&mut self) -> Result<String, EsdkError> {
        String::from_utf8(self.short_bytes()?.to_vec()).map_err(|_| EsdkError::Malformed("text is not UTF-8"))
    }
}

impl<'a> Message<'a> {
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EsdkError> {
        let mut r = Reader { bytes, at: 0 };
        let version = r.u8()?;
        if version == 1 && r.u8()? != 0x80 {
            return Err(EsdkError::Malformed("unknown message type"));
        }
        if version != 1 && version != 2 {
            return Err(EsdkError::Malformed("unknown version"));
        }
        let suite = suite(r.u16()?)?;
        if suite.committing != (version == 2) {
            return Err(EsdkError::Malformed("suite and version disagree"));
        }
        let message_id = r.take(if version == 2 { 32 } else { 16 })?;
        let context_bytes = r.short_bytes()?;
        let context = read_context(context_bytes)?;
        let key_count = r.u16()? as usize;
        if key_count == 0 || key_count > MAX_KEYS {
            return Err(EsdkError::Malformed("encrypted data key count"));
        }
        let mut keys = Vec::with_capacity(key_count);
        for _ in 0..key_count {
            let provider = r.text()?;
            let key_info = String::from_utf8_lossy(r.short_bytes()?).into_owned();
            let ciphertext = r.short_bytes()?.to_vec();
            keys.push(EncryptedDataKey { provider, key_info, ciphertext });
        }
        if r.u8()? != 2 {
            return Err(EsdkError::Malformed("only framed content is read"));
        }
        if version == 1 && (r.take(4)? != [0, 0, 0, 0] || r.u8()? as usize != IV_LEN) {
            return Err(EsdkError::Malformed("reserved bytes or IV length"));
        }
        let frame_length = r.u32()? as usize;
        if frame_length == 0 || frame_length > MAX_PLAINTEXT {
            return Err(EsdkError::Malformed("frame length"));
        }
        let commitment = if suite.committing { Some(r.take(32)?) } else { None };
        let header_end = r.at;
        let mut header_iv = [0u8; IV_LEN];
        if version == 1 {
            header_iv.copy_from_slice(r.take(IV_LEN)?);
        }
        let header_tag = r.take(TAG_LEN)?;
        Ok(Self { bytes, suite, message_id, context, keys, frame_length, commitment, header_end, header_iv, header_tag, body_start: r.at })
    }

    /// The encryption context as a map (what KMS `Decrypt` must be given).
    pub fn context_map(&self) -> std::collections::HashMap<String, String> {
        self.context.iter().cloned().collect()
    }

    /// The plaintext, with `data_key` (the unwrapped data key), once everything checks out.
    pub fn decrypt(&self, data_key: &[u8]) -> Result<Vec<u8>, EsdkError> {
        let key = self.content_key(data_key)?;
        let header = &self.bytes[..self.header_end];
        open(&key, &self.header_iv, header, &mut self.header_tag.to_vec()).map_err(|_| EsdkError::Tampered("header authentication"))?;

        let mut r = Reader { bytes: self.bytes, at: self.body_start };
        let mut plaintext = Vec::new();
        let mut sequence: u32 = 1;
        loop {
            let marker = r.u32()?;
            let final_frame = marker == FINAL_FRAME;
            let number = if final_frame { r.u32()? } else { marker };
            if number != sequence {
                return Err(EsdkError::Tampered("frame out of order"));
            }
            let iv = r.take(IV_LEN)?;
            let length = if final_frame { r.u32()? as usize } else { self.frame_length };
            if length > self.frame_length || plaintext.len() + length > MAX_PLAINTEXT {
                return Err(EsdkError::Malformed("frame content length"));
            }
            let mut sealed = r.take(length + TAG_LEN)?.to_vec();
            let label: &[u8] = if final_frame { b"AWSKMSEncryptionClient Final Frame" } else { b"AWSKMSEncryptionClient Frame" };
            let mut aad = self.message_id.to_vec();
            aad.extend_from_slice(label);
            aad.extend_from_slice(&sequence.to_be_bytes());
            aad.extend_from_slice(&(length as u64).to_be_bytes());
            let mut nonce = [0u8; IV_LEN];
            nonce.copy_from_slice(iv);
            let opened = open(&key, &nonce, &aad, &mut sealed).map_err(|_| EsdkError::Tampered("frame"))?;
            plaintext.extend_from_slice(opened);
            if final_frame {
                break;
            }
            sequence = sequence.checked_add(1).filter(|s| *s != FINAL_FRAME).ok_or(EsdkError::Malformed("too many frames"))?;
        }
        self.verify_signature(&mut r)?;
        if r.at != self.bytes.len() {
            return Err(EsdkError::Malformed("bytes after the message"));
        }
        Ok(plaintext)
    }

    /// The key frames are encrypted with, derived from the data key; for committing suites the
    /// message's commitment must match the one derived here.
    fn content_key(&self, data_key: &[u8]) -> Result<LessSafeKey, EsdkError> {
        if data_key.len() != 32 {
            return Err(EsdkError::Malformed("data key length"));
        }
        let mut key = [0u8; 32];
        if self.suite.committing {
            let prk = hkdf::Salt::new(self.suite.kdf, self.message_id).extract(data_key);
            let mut info = self.suite.id.to_be_bytes().to_vec();
            info.extend_from_slice(b"DERIVEKEY");
            expand(&prk, &[&info], &mut key)?;
            let mut commitment = [0u8; 32];
            expand(&prk, &[b"COMMITKEY"], &mut commitment)?;
            let expected = self.commitment.ok_or(EsdkError::Malformed("no commitment"))?;
            if aws_lc_rs::constant_time::verify_slices_are_equal(&commitment, expected).is_err() {
                return Err(EsdkError::Tampered("key commitment"));
            }
        } else {
            let prk = hkdf::Salt::new(self.suite.kdf, &[]).extract(data_key);
            let mut info = self.suite.id.to_be_bytes().to_vec();
            info.extend_from_slice(self.message_id);
            expand(&prk, &[&info], &mut key)?;
        }
        Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &key).map_err(|_| EsdkError::Malformed("content key"))?))
    }

    /// The footer's ECDSA P-384 signature over everything before it, with the public key the
    /// encryption context carries (`aws-crypto-public-key`).
    fn verify_signature(&self, r: &mut Reader<'_>) -> Result<(), EsdkError> {
        if !self.suite.signed {
            return Ok(());
        }
        let signed = &self.bytes[..r.at];
        let signature = r.short_bytes()?;
        let public = self.context.iter().find(|(k, _)| k == "aws-crypto-public-key").ok_or(EsdkError::Malformed("no public key"))?;
        let public = base64::engine::general_purpose::STANDARD.decode(&public.1).map_err(|_| EsdkError::Malformed("public key"))?;
        signature::UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_ASN1, public).verify(signed, signature).map_err(|_| EsdkError::Tampered("signature"))
    }
}

fn read_context(bytes: &[u8]) -> Result<Vec<(String, String)>, EsdkError> {
    if bytes.is_empty() {
        return Ok(Vec::new());
    }
    let mut r = Reader { bytes, at: 0 };
    let count = r.u16()?;
    let mut pairs = Vec::with_capacity(count as usize);
    for _ in 0..count {
        pairs.push((r.text()?, r.text()?));
    }
    if r.at != bytes.len() {
        return Err(EsdkError::Malformed("encryption context length"));
    }
    Ok(pairs)
}

/// HKDF-Expand into `out`.
fn expand(prk: &hkdf::Prk, info: &[&[u8]], out: &mut [u8]) -> Result<(), EsdkError> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    prk.expand(info, Len(out.len())).and_then(|okm| okm.fill(out)).map_err(|_| EsdkError::Malformed("key derivation"))
}

/// AES-256-GCM open of `sealed` (content and tag) in place.
fn open<'b>(key: &LessSafeKey, iv: &[u8; IV_LEN], aad: &[u8], sealed: &'b mut [u8]) -> Result<&'b [u8], aws_lc_rs::error::Unspecified> {
    let opened = key.open_in_place(Nonce::assume_unique_for_key(*iv), Aad::from(aad), sealed)?;
    Ok(opened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_message() {
        for bytes in [&b""[..], b"\x03", b"\x02\x12\x34", b"\x01\x81\x05\x78", &[2u8, 5, 0x78, 0][..]] {
            assert!(Message::parse(bytes).is_err(), "{bytes:?}");
        }
        assert_eq!(Message::parse(b"\x02\x00\x14").err(), Some(EsdkError::UnsupportedSuite(0x0014)));
    }
}
