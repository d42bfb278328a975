//! Ed25519 signing keys: loaded once at startup from PEM files, published as a JWKS.
//!
//! One key signs; older keys stay accepted and published until every token they signed has
//! expired (rotation). Key ids are RFC 7638 thumbprints, so the same key always has the same
//! `kid` wherever it is loaded.

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, KeypairBytes};
use ed25519_dalek::{SigningKey, VerifyingKey};
use hkdf::Hkdf;
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, Jwk, JwkSet, KeyAlgorithm,
    OctetKeyPairParameters, OctetKeyPairType, PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sha2::Sha256;

use crate::core::config::Settings;

/// HKDF salt: fixed and public (RFC 5869 §3.1 allows that); it separates Warren's derivations
/// from any other use of the same key material.
const DERIVATION_SALT: &[u8] = b"warren";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write key file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path} is not an Ed25519 PEM key (expected PKCS#8 \"PRIVATE KEY\" or \"PUBLIC KEY\")")]
    Parse { path: PathBuf },
    #[error("{path} holds a public key; the signing key must be private")]
    NotPrivate { path: PathBuf },
    #[error("cannot gather randomness for a new key: {0}")]
    Random(String),
    #[error("cannot encode the new key: {0}")]
    Encode(String),
}

/// A verifying key with its id.
struct PublishedKey {
    kid: String,
    decoding: DecodingKey,
}

/// All keys of this instance: the one that signs and every one that verifies.
pub struct KeyRing {
    signing_kid: String,
    signing: EncodingKey,
    /// The signing key's secret seed, from which purpose-bound secrets are derived.
    seed: zeroize::Zeroizing<[u8; 32]>,
    published: Vec<PublishedKey>,
    jwks: JwkSet,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.published.iter().map(|k| k.kid.as_str()).collect();
        f.debug_struct("KeyRing")
            .field("signing_kid", &self.signing_kid)
            .field("published", &kids)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the configured keys. In development with no key configured, a key is generated
    /// once into `data_dir/keys/signing.pem` and reused on later starts. Production settings
    /// validation has already insisted on a configured key.
    pub fn load(settings: &Settings) -> Result<Self, KeyError> {
        let signing_path = if let Some(path) = &settings.auth.signing_key_file {
            path.clone()
        } else {
            let path = Self::development_key_path(&settings.data_dir);
            if !path.exists() {
                Self::generate_file(&path)?;
                tracing::info!(path = %path.display(), "generated a development signing key");
            }
            path
        };
        let signing = read_key(&signing_path)?;
        let ParsedKey::Private(signing) = signing else {
            return Err(KeyError::NotPrivate { path: signing_path });
        };
        let mut verifying = Vec::new();
        for path in &settings.auth.verification_key_files {
            verifying.push(read_key(path)?.verifying_key());
        }
        Self::new(&signing, &verifying)
    }

    pub fn development_key_path(data_dir: &Path) -> PathBuf {
        data_dir.join("keys").join("signing.pem")
    }

    fn new(signing: &SigningKey, older: &[VerifyingKey]) -> Result<Self, KeyError> {
        let der = signing.to_pkcs8_der().map_err(|e| KeyError::Encode(e.to_string()))?;
        let (mut published, mut jwks) = (Vec::<PublishedKey>::new(), JwkSet::default());
        for key in std::iter::once(&signing.verifying_key()).chain(older) {
            let (jwk, kid) = public_jwk(key)?;
            if !published.iter().any(|k| k.kid == kid) {
                let decoding =
                    DecodingKey::from_jwk(&jwk).map_err(|e| KeyError::Encode(e.to_string()))?;
                published.push(PublishedKey { kid, decoding });
                jwks.keys.push(jwk);
            }
        }
        Ok(Self {
            signing_kid: published[0].kid.clone(),
            signing: EncodingKey::from_ed_der(der.as_bytes()),
            seed: zeroize::Zeroizing::new(signing.to_bytes()),
            published,
            jwks,
        })
    }

    /// Writes a fresh private key to `path` (mode 0600, never overwriting) and returns its kid.
    ///
    /// The file is PKCS#8 v1 (RFC 8410, the seed alone), as `openssl genpkey -algorithm
    /// ed25519` writes it. The v2 form with the public key embedded, which `to_pkcs8_pem`
    /// writes, is refused by OpenSSL 3 and Python's `cryptography`; both forms are read.
    pub fn generate_file(path: &Path) -> Result<String, KeyError> {
        let mut secret = zeroize::Zeroizing::new([0u8; 32]);
        getrandom::fill(secret.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
        let key = SigningKey::from_bytes(&secret);
        let seed_only = KeypairBytes { secret_key: *secret, public_key: None };
        let pem =
            seed_only.to_pkcs8_pem(LineEnding::LF).map_err(|e| KeyError::Encode(e.to_string()))?;
        write_private_file(path, pem.as_bytes())
            .map_err(|source| KeyError::Write { path: path.to_owned(), source })?;
        Ok(public_jwk(&key.verifying_key())?.1)
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn signing_key(&self) -> &EncodingKey {
        &self.signing
    }

    pub fn decoding_key(&self, kid: &str) -> Option<&DecodingKey> {
        self.published.iter().find(|k| k.kid == kid).map(|k| &k.decoding)
    }

    /// A 256-bit secret for one `purpose`, derived from the signing key's seed with
    /// HKDF-SHA256 (RFC 5869), so every instance sharing the key derives the same secret and
    /// no second secret needs distributing. Distinct purposes give independent secrets.
    pub fn derive_secret(&self, purpose: &str) -> [u8; 32] {
        let hkdf = Hkdf::<Sha256>::new(Some(DERIVATION_SALT), self.seed.as_ref());
        let mut secret = [0u8; 32];
        hkdf.expand_multi_info(&[b"warren derived secret v1\0", purpose.as_bytes()], &mut secret)
            .expect("32 bytes is far below HKDF-SHA256's 8160-byte limit");
        secret
    }

    /// The JSON Web Key Set: every published key, the signing key first.
    pub fn jwks(&self) -> &JwkSet {
        &self.jwks
    }
}

enum ParsedKey {
    Private(SigningKey),
    Public(VerifyingKey),
}

impl ParsedKey {
    fn verifying_key(self) -> VerifyingKey {
        match self {
            Self::Private(key) => key.verifying_key(),
            Self::Public(key) => key,
        }
    }
}

fn read_key(path: &Path) -> Result<ParsedKey, KeyError> {
    let pem = std::fs::read_to_string(path)
        .map_err(|source| KeyError::Read { path: path.to_owned(), source })?;
    if let Ok(key) = SigningKey::from_pkcs8_pem(&pem) {
        return Ok(ParsedKey::Private(key));
    }
    VerifyingKey::from_public_key_pem(&pem)
        .map(ParsedKey::Public)
        .map_err(|_| KeyError::Parse { path: path.to_owned() })
}

/// Writes `contents` to a new file only its owner can read (0600), creating its folder. Never
/// overwrites: an existing file is an error.
pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents)
}

/// The public JWK of `key` (RFC 8037) and its kid, the RFC 7638 thumbprint, which is the same
/// wherever the key is loaded.
fn public_jwk(key: &VerifyingKey) -> Result<(Jwk, String), KeyError> {
    let mut jwk = Jwk {
        common: CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(KeyAlgorithm::EdDSA),
            ..CommonParameters::default()
        },
        algorithm: AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
            key_type: OctetKeyPairType::OctetKeyPair,
            curve: EllipticCurve::Ed25519,
            x: URL_SAFE_NO_PAD.encode(key.as_bytes()),
        }),
    };
    let kid =
        jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| KeyError::Encode(e.to_string()))?;
    jwk.common.key_id = Some(kid.clone());
    Ok((jwk, kid))
}

#[cfg(test)]
pub(crate) mod tests;
