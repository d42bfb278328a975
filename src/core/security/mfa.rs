//! Second-factor primitives: TOTP (RFC 6238: HMAC-SHA-1, 6 digits, 30 s steps, ±1 step) via
//! `totp-rs`, TOTP secrets sealed at rest with XChaCha20-Poly1305, recovery codes stored under
//! a keyed hash, and the key both derive from (`mfa.encryption_key`, or a development key
//! generated into `data_dir`).

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use totp_rs::{Algorithm, Builder, Secret, Totp};
use zeroize::Zeroizing;

use super::keys::write_private_file;
use crate::core::config::{Settings, format_mfa_key, parse_mfa_key};
use crate::domain::{RecoveryCode, SecretHash, UserId};

/// Bytes of a TOTP secret: 160 bits, as RFC 4226 §4 recommends.
pub const TOTP_SECRET_BYTES: usize = 20;
/// Seconds per TOTP step.
pub const TOTP_STEP_SECS: u64 = 30;
const NONCE_BYTES: usize = 24;
/// Binds a sealed secret to its purpose as well as to its user.
const CONTEXT: &[u8] = b"warren mfa totp secret v1";
/// Derives the recovery codes' hashing key from the MFA key, so neither key opens the other.
const RECOVERY_KEY_INFO: &[u8] = b"warren mfa recovery code hash v2";
/// Derives the service clients' secret-hashing key from the same key, independent of the others.
const CLIENT_SECRET_KEY_INFO: &[u8] = b"warren service client secret hash v1";

#[derive(Debug, thiserror::Error)]
pub enum MfaKeyError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: &'static str },
    #[error("mfa.encryption_key: {0}")]
    Configured(&'static str),
    #[error("cannot gather randomness for a new key: {0}")]
    Random(String),
}

/// A sealed secret that does not open: another key, another user's row, or tampering.
#[derive(Debug, thiserror::Error)]
#[error("the TOTP secret does not decrypt with the configured mfa.encryption_key")]
pub struct Unsealable;

/// Seals and opens TOTP secrets, and hashes recovery codes. The user id is associated data (and
/// part of each code's hash), so a row copied to another account does not work there.
pub struct SecretBox {
    cipher: XChaCha20Poly1305,
    /// HMAC key for recovery codes: a database dump alone does not let anyone test guesses.
    recovery_key: Zeroizing<[u8; 32]>,
    /// HMAC key for service clients' secrets (see [`super::ClientSecrets`]).
    client_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(..)")
    }
}

impl SecretBox {
    pub fn new(key: &[u8; 32]) -> Self {
        let mut recovery_key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, key)
            .expand(RECOVERY_KEY_INFO, recovery_key.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        let mut client_key = Zeroizing::new([0u8; 32]);
        Hkdf::<Sha256>::new(None, key)
            .expand(CLIENT_SECRET_KEY_INFO, client_key.as_mut())
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        Self { cipher: XChaCha20Poly1305::new(&Key::from(*key)), recovery_key, client_key }
    }

    /// What a recovery code of `user` is stored (and looked up) as: HMAC-SHA256 under a key
    /// derived from the MFA key, over the user id and the code. With 120-bit codes that is as
    /// strong as a slow hash, and a lookup stays one indexed read.
    pub fn recovery_code_hash(&self, user: UserId, code: &RecoveryCode) -> SecretHash {
        if code.is_legacy() {
            return code.legacy_hash();
        }
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.recovery_key.as_ref())
            .expect("HMAC takes a key of any length");
        mac.update(user.as_uuid().as_bytes());
        mac.update(code.as_str().as_bytes());
        SecretHash::from_bytes(mac.finalize().into_bytes().into())
    }

    /// The hasher of service clients' secrets, keyed from this key: secrets keep working as
    /// long as the MFA key stays (a signing-key rotation does not touch them).
    pub fn client_secrets(&self) -> super::ClientSecrets {
        super::ClientSecrets::new(self.client_key.clone())
    }

    /// The configured key; in development with none configured, the key in
    /// `data_dir/keys/mfa.key`, generated there on first start. Production settings validation
    /// has already insisted on a configured key.
    pub fn load(settings: &Settings) -> Result<Self, MfaKeyError> {
        if let Some(value) = &settings.mfa.encryption_key {
            return parse_mfa_key(value)
                .map(|key| Self::new(&key))
                .map_err(MfaKeyError::Configured);
        }
        let path = Self::development_key_path(&settings.data_dir);
        if !path.exists() {
            generate_key_file(&path)?;
            tracing::info!(path = %path.display(), "generated a development MFA encryption key");
        }
        Self::read_key_file(&path)
    }

    /// The key file's key, or `None` when there is none yet (`check-config` writes nothing).
    pub fn load_readonly(settings: &Settings) -> Result<Option<Self>, MfaKeyError> {
        let path = Self::development_key_path(&settings.data_dir);
        if settings.mfa.encryption_key.is_none() && !path.exists() {
            return Ok(None);
        }
        Self::load(settings).map(Some)
    }

    pub fn development_key_path(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("mfa.key")
    }

    fn read_key_file(path: &Path) -> Result<Self, MfaKeyError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|source| MfaKeyError::Read { path: path.to_owned(), source })?,
        );
        let key = parse_mfa_key(text.trim())
            .map_err(|reason| MfaKeyError::Invalid { path: path.to_owned(), reason })?;
        Ok(Self::new(&key))
    }

    /// A random nonce followed by the ciphertext.
    pub fn seal(&self, user: UserId, secret: &[u8]) -> Result<Vec<u8>, getrandom::Error> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce)?;
        let aad = associated_data(user);
        let sealed = self
            .cipher
            .encrypt(&XNonce::from(nonce), Payload { msg: secret, aad: &aad })
            .expect("XChaCha20-Poly1305 encrypts any in-memory message");
        let mut stored = nonce.to_vec();
        stored.extend_from_slice(&sealed);
        Ok(stored)
    }

    pub fn open(&self, user: UserId, stored: &[u8]) -> Result<Zeroizing<Vec<u8>>, Unsealable> {
        let (nonce, sealed) = stored.split_at_checked(NONCE_BYTES).ok_or(Unsealable)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| Unsealable)?;
        let aad = associated_data(user);
        let plain = self.cipher.decrypt(&XNonce::from(nonce), Payload { msg: sealed, aad: &aad });
        plain.map(Zeroizing::new).map_err(|_| Unsealable)
    }
}

fn associated_data(user: UserId) -> Vec<u8> {
    let mut aad = CONTEXT.to_vec();
    aad.extend_from_slice(user.as_uuid().as_bytes());
    aad
}

/// Writes a fresh random key (mode 0600, never overwriting) in the configured-value format.
fn generate_key_file(path: &Path) -> Result<(), MfaKeyError> {
    let mut key = Zeroizing::new([0u8; 32]);
    getrandom::fill(key.as_mut()).map_err(|e| MfaKeyError::Random(e.to_string()))?;
    let line = Zeroizing::new(format!("{}\n", format_mfa_key(&key)));
    write_private_file(path, line.as_bytes())
        .map_err(|source| MfaKeyError::Write { path: path.to_owned(), source })
}

/// The RFC 6238 generator for one secret, labelled for authenticator apps.
pub fn totp(secret: &[u8], issuer: &str, account: &str) -> Result<Totp, totp_rs::TotpError> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(TOTP_STEP_SECS)
        .with_secret(Secret::from(secret.to_vec()))
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
}

/// The step a code is valid for at unix time `now` (±1 step), if any.
pub fn matching_step(totp: &Totp, code: &str, now: i64) -> Option<i64> {
    let now = u64::try_from(now).ok()?;
    totp.check(code, now).and_then(|step| i64::try_from(step).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_key() {
        let (user, other) = (UserId::generate(), UserId::generate());
        let sealed = SecretBox::new(&[1; 32]).seal(user, b"twenty bytes secret!").expect("seal");
        assert!(!sealed.windows(20).any(|w| w == b"twenty bytes secret!"));
        let opened = SecretBox::new(&[1; 32]).open(user, &sealed).expect("opens");
        assert_eq!(opened.as_slice(), b"twenty bytes secret!");
        assert!(SecretBox::new(&[1; 32]).open(other, &sealed).is_err());
        assert!(SecretBox::new(&[2; 32]).open(user, &sealed).is_err());
        assert!(SecretBox::new(&[1; 32]).open(user, &sealed[..10]).is_err());
    }

    #[test]
    fn recovery_codes_hash_under_the_key_and_the_user() {
        let code = RecoveryCode::from_random(&[7; crate::domain::RECOVERY_CODE_LEN]);
        let (user, other) = (UserId::generate(), UserId::generate());
        let stored = SecretBox::new(&[1; 32]).recovery_code_hash(user, &code);
        assert_ne!(stored, SecretHash::of(code.as_str()), "never a bare SHA-256");
        assert_eq!(stored, SecretBox::new(&[1; 32]).recovery_code_hash(user, &code));
        assert_ne!(stored, SecretBox::new(&[2; 32]).recovery_code_hash(user, &code));
        assert_ne!(stored, SecretBox::new(&[1; 32]).recovery_code_hash(other, &code));
    }

    #[test]
    fn codes_match_their_step_and_its_neighbours_only() {
        let generator = totp(&[7; TOTP_SECRET_BYTES], "Warren", "ada@example.com").expect("totp");
        let now = 1_764_000_000_i64;
        let step = now / 30;
        let code = |at: i64| generator.generate(u64::try_from(at).expect("positive")).to_string();
        assert_eq!(matching_step(&generator, &code(now), now), Some(step));
        assert_eq!(matching_step(&generator, &code(now - 30), now), Some(step - 1));
        assert_eq!(matching_step(&generator, &code(now + 30), now), Some(step + 1));
        assert_eq!(matching_step(&generator, &code(now - 60), now), None);
        let url = generator.to_url().expect("url");
        assert!(url.starts_with("otpauth://totp/Warren:ada%40example.com?secret="), "{url}");
        assert!(url.ends_with("&issuer=Warren"), "{url}");
    }
}
