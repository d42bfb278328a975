//! Refresh tokens: 256-bit opaque secrets handed to the client once and stored only as SHA-256.
//!
//! A token's successor is not random but `HMAC(secret, token)`: when two tabs refresh the same
//! token at once, the loser of the race can be handed the very successor the winner got,
//! without the plaintext ever being stored. Only someone holding both the token and the
//! server's secret can compute a successor, so reuse detection is not weakened.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::domain::RefreshTokenHash;

/// Marks Warren refresh tokens for secret scanners and humans.
const PREFIX: &str = "wrt_";
/// Base64url of 32 bytes, unpadded.
const ENCODED_LEN: usize = 43;

/// A refresh token in plaintext. Never logged, never stored.
pub struct RefreshToken(SecretString);

impl RefreshToken {
    /// Accepts only strings of the exact shape Warren issues.
    pub fn parse(raw: &str) -> Option<Self> {
        let body = raw.strip_prefix(PREFIX)?;
        let valid = body.len() == ENCODED_LEN
            && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        valid.then(|| Self(raw.into()))
    }

    fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)).into())
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    pub fn hash(&self) -> RefreshTokenHash {
        RefreshTokenHash::from_bytes(Sha256::digest(self.expose().as_bytes()).into())
    }
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshToken([REDACTED])")
    }
}

/// Mints root tokens (random) and successors (keyed derivation).
pub struct RefreshTokens {
    successor_key: zeroize::Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for RefreshTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RefreshTokens(..)")
    }
}

impl RefreshTokens {
    pub fn new(successor_key: [u8; 32]) -> Self {
        Self { successor_key: zeroize::Zeroizing::new(successor_key) }
    }

    /// A fresh token from the operating system's CSPRNG.
    pub fn generate(&self) -> Result<RefreshToken, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        Ok(RefreshToken::from_bytes(&bytes))
    }

    /// The one token that `parent` rotates into.
    pub fn successor_of(&self, parent: &RefreshToken) -> RefreshToken {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.successor_key.as_ref())
            .expect("HMAC accepts keys of any length");
        mac.update(parent.expose().as_bytes());
        RefreshToken::from_bytes(&mac.finalize().into_bytes().into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_prefixed_256_bit_and_distinct() {
        let tokens = RefreshTokens::new([7; 32]);
        let a = tokens.generate().expect("random");
        let b = tokens.generate().expect("random");
        assert!(a.expose().starts_with("wrt_"));
        assert_eq!(a.expose().len(), 4 + 43);
        assert_ne!(a.expose(), b.expose());
        assert!(RefreshToken::parse(a.expose()).is_some());
    }

    #[test]
    fn successors_are_deterministic_per_key_and_differ_from_the_parent() {
        let ours = RefreshTokens::new([7; 32]);
        let theirs = RefreshTokens::new([8; 32]);
        let parent = ours.generate().expect("random");
        let successor = ours.successor_of(&parent);
        assert_eq!(successor.expose(), ours.successor_of(&parent).expose());
        assert_ne!(successor.expose(), parent.expose());
        assert_ne!(successor.expose(), theirs.successor_of(&parent).expose());
        assert!(RefreshToken::parse(successor.expose()).is_some());
    }

    #[test]
    fn only_the_issued_shape_parses() {
        let valid = format!("wrt_{}", "A".repeat(43));
        assert!(RefreshToken::parse(&valid).is_some());
        for bad in [
            "",
            "wrt_",
            &"A".repeat(47),
            &format!("wrt_{}", "A".repeat(42)),
            &format!("wrt_{}=", "A".repeat(42)),
            &format!("xrt_{}", "A".repeat(43)),
        ] {
            assert!(RefreshToken::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_stored_hash_is_sha256_of_the_token() {
        let token = RefreshTokens::new([1; 32]).generate().expect("random");
        let expected: [u8; 32] = Sha256::digest(token.expose().as_bytes()).into();
        assert_eq!(token.hash().as_bytes(), &expected);
        assert!(!format!("{token:?}").contains("wrt_"));
    }
}
