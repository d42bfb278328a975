//! Link tokens: 256 random bits, URL-safe, stored only as their SHA-256; and the links that
//! carry them, built from the configured templates.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::domain::LinkTokenHash;

/// A fresh token and the hash under which it is stored.
pub fn generate() -> Result<(String, LinkTokenHash), getrandom::Error> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes)?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash(&token);
    Ok((token, hash))
}

/// The stored form of whatever string a client presents (any length, any characters).
pub fn hash(token: &str) -> LinkTokenHash {
    LinkTokenHash::from_bytes(Sha256::digest(token.as_bytes()).into())
}

/// `template` with `{token}` replaced by the percent-encoded token, nothing else changed.
pub fn link(template: &str, token: &str) -> String {
    template.replace("{token}", &percent_encode(token))
}

/// Keeps RFC 3986 unreserved characters; encodes every other byte.
fn percent_encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// "30 minutes", "24 hours", "2 days": how long a link lives, for the message text.
pub fn describe(secs: u64) -> String {
    let (amount, unit) = match secs {
        s if s % 86_400 == 0 && s >= 2 * 86_400 => (s / 86_400, "day"),
        s if s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    if amount == 1 { format!("1 {unit}") } else { format!("{amount} {unit}s") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_url_safe_and_hashed() {
        let (token, stored) = generate().expect("randomness");
        assert_eq!(token.len(), 43);
        assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(hash(&token), stored);
        assert_ne!(generate().expect("randomness").0, token);
    }

    #[test]
    fn links_fill_the_template_with_the_encoded_token() {
        assert_eq!(
            link("https://a.example/v#token={token}", "ab-_"),
            "https://a.example/v#token=ab-_"
        );
        assert_eq!(link("x?t={token}", "a b/+"), "x?t=a%20b%2F%2B");
    }

    #[test]
    fn lifetimes_read_naturally() {
        assert_eq!(describe(1_800), "30 minutes");
        assert_eq!(describe(86_400), "24 hours");
        assert_eq!(describe(172_800), "2 days");
        assert_eq!(describe(61), "61 seconds");
    }
}
