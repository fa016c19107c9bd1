//! Random bytes and numbers for secrets, nonces, one-time codes and retry jitter, from aws-lc's
//! generator (`aws_lc_rs::rand`: the system's entropy through aws-lc's DRBG, the generator our
//! signing keys already use). One generator in every function, not a second one from `rand`.

/// Fills `buf` with random bytes. Panics only if the system's entropy source fails, as any
/// generator would have to.
pub fn fill(buf: &mut [u8]) {
    aws_lc_rs::rand::fill(buf).expect("the system's entropy source is available");
}

/// 256 random bits, base64url (43 characters): states, nonces, PKCE verifiers, ids of records
/// found by a sealed token, the random part of session cookies.
pub fn token() -> String {
    secret(32)
}

/// A random secret of `bytes` bytes, base64url without padding.
pub fn secret(bytes: usize) -> String {
    use base64::Engine;
    let mut buf = vec![0u8; bytes];
    fill(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// A random number in `0..n` (0 when `n` is 0). A 64-bit value reduced mod `n`: its bias, below
/// `n / 2^64`, is nothing for jitter and six-digit codes.
pub fn below(n: u64) -> u64 {
    if n == 0 {
        return 0;
    }
    let mut bytes = [0u8; 8];
    fill(&mut bytes);
    u64::from_le_bytes(bytes) % n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_characters_and_differ() {
        assert_eq!(token().len(), 43);
        assert_ne!(token(), token());
    }

    #[test]
    fn numbers_stay_below_their_bound_and_vary() {
        let drawn: Vec<u64> = (0..200).map(|_| below(10)).collect();
        assert!(drawn.iter().all(|n| *n < 10));
        assert!(drawn.iter().any(|n| *n != drawn[0]), "not one value over and over");
        assert_eq!(below(0), 0);
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        fill(&mut a);
        fill(&mut b);
        assert_ne!(a, b);
    }
}
