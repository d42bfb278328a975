//! `mfa.*`: two-factor sign-in: the key TOTP secrets are encrypted with, and the
//! name authenticator apps show.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hkdf::Hkdf;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use super::Problems;

/// Marks a configured key given as raw bytes rather than a passphrase.
pub const RAW_KEY_PREFIX: &str = "base64:";
/// Shortest passphrase accepted: HKDF stretches nothing, so the entropy must be there already.
pub const MIN_PASSPHRASE_CHARS: usize = 32;

#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MfaSettings {
    /// The key TOTP secrets are encrypted with at rest: `base64:` and the standard base64 of
    /// exactly 32 random bytes, or a passphrase of at least 32 characters (the key is then
    /// derived with HKDF-SHA256). Unset in development: generated into `data_dir/keys/mfa.key`;
    /// production requires it. Never in `Debug` or logs.
    pub encryption_key: Option<String>,
    /// The issuer authenticator apps show beside the account (the `otpauth_uri`'s label and
    /// `issuer` parameter).
    pub issuer: String,
}

impl Default for MfaSettings {
    fn default() -> Self {
        Self { encryption_key: None, issuer: "Warren".to_owned() }
    }
}

impl std::fmt::Debug for MfaSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MfaSettings")
            .field("encryption_key", &self.encryption_key.as_ref().map(|_| "[redacted]"))
            .field("issuer", &self.issuer)
            .finish()
    }
}

impl MfaSettings {
    pub(super) fn validate(&self, production: bool, problems: &mut Problems) {
        match &self.encryption_key {
            Some(value) => {
                if let Err(reason) = parse_key(value) {
                    problems.refuse("mfa.encryption_key", reason);
                }
            }
            None if production => problems.refuse(
                "mfa.encryption_key",
                "production needs a configured key (generated keys are for development)",
            ),
            None => {}
        }
        let issuer = &self.issuer;
        if issuer.trim().is_empty() || issuer.chars().count() > 64 {
            problems.refuse("mfa.issuer", "must be 1 to 64 characters");
        }
        if issuer.contains(':') || issuer.chars().any(char::is_control) {
            problems.refuse("mfa.issuer", "must not contain ':' or control characters");
        }
    }
}

/// The 32-byte key a configured value stands for (see [`MfaSettings::encryption_key`]).
pub fn parse_key(value: &str) -> Result<Zeroizing<[u8; 32]>, &'static str> {
    if let Some(encoded) = value.trim().strip_prefix(RAW_KEY_PREFIX) {
        let bytes = Zeroizing::new(
            STANDARD.decode(encoded.trim()).map_err(|_| "base64: key is not valid base64")?,
        );
        let key: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| "base64: key must decode to exactly 32 bytes")?;
        return Ok(Zeroizing::new(key));
    }
    if value.chars().count() < MIN_PASSPHRASE_CHARS {
        return Err("a passphrase must be at least 32 characters (or use base64: and 32 bytes)");
    }
    let hkdf = Hkdf::<Sha256>::new(Some(b"warren"), value.as_bytes());
    let mut key = Zeroizing::new([0u8; 32]);
    hkdf.expand(b"warren mfa secret key v1", key.as_mut())
        .map_err(|_| "the key could not be derived")?;
    Ok(key)
}

/// A configured value for `key`, in the raw form `parse_key` reads back.
pub fn format_key(key: &[u8; 32]) -> String {
    format!("{RAW_KEY_PREFIX}{}", STANDARD.encode(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_keys_and_passphrases_both_give_32_bytes() {
        let raw = [7u8; 32];
        assert_eq!(*parse_key(&format_key(&raw)).expect("raw key"), raw);
        let phrase = "correct horse battery staple and then some more";
        let derived = parse_key(phrase).expect("passphrase");
        assert_eq!(*derived, *parse_key(phrase).expect("same again"));
        assert_ne!(*derived, *parse_key(&format!("{phrase}!")).expect("another"));
    }

    #[test]
    fn short_passphrases_and_wrong_lengths_are_refused() {
        assert!(parse_key("too short").is_err());
        assert!(parse_key("base64:AAAA").is_err());
        assert!(parse_key("base64:not base64 at all!").is_err());
    }

    #[test]
    fn production_requires_a_key() {
        let mut problems = Problems::default();
        MfaSettings::default().validate(true, &mut problems);
        assert_eq!(problems.0.len(), 1);
        let mut problems = Problems::default();
        MfaSettings::default().validate(false, &mut problems);
        assert!(problems.0.is_empty());
    }
}
