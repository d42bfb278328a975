//! Signing keys (Ed25519 for EdDSA, P-256 for ES256): loaded once at startup from PEM files,
//! published as a JWKS.
//!
//! One key signs; older keys stay accepted and published until every token they signed has
//! expired (rotation), whatever their algorithm, so switching algorithms is a rotation too.
//! Each key verifies with its own algorithm only. Key ids are RFC 7638 thumbprints, so the same
//! key always has the same `kid` wherever it is loaded.

mod material;

use std::fs::OpenOptions;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use sha2::Sha256;

use crate::core::config::{Settings, SigningAlgorithm};
pub(crate) use material::{ParsedKey, PrivateKey, PublicKey, read_key};

/// HKDF salt: fixed and public (RFC 5869 §3.1 allows that); it separates Warren's derivations
/// from any other use of the same key material.
const DERIVATION_SALT: &[u8] = b"warren";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read key file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write key file {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} is not an Ed25519 or P-256 PEM key (expected PKCS#8 \"PRIVATE KEY\" or \"PUBLIC KEY\")"
    )]
    Parse { path: PathBuf },
    #[error("{path} holds a public key; the signing key must be private")]
    NotPrivate { path: PathBuf },
    #[error(
        "{path} holds a key for {found} but auth.signing_algorithm is {configured}; configure \
         a key of that kind (warren keys generate --algorithm {configured})"
    )]
    WrongAlgorithm { path: PathBuf, found: SigningAlgorithm, configured: SigningAlgorithm },
    #[error("cannot gather randomness for a new key: {0}")]
    Random(String),
    #[error("cannot encode the new key: {0}")]
    Encode(String),
}

/// A verifying key with its id and the one algorithm it verifies.
struct PublishedKey {
    kid: String,
    algorithm: Algorithm,
    decoding: DecodingKey,
}

/// All keys of this instance: the one that signs and every one that verifies.
pub struct KeyRing {
    signing_kid: String,
    signing_algorithm: SigningAlgorithm,
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
            .field("signing_algorithm", &self.signing_algorithm)
            .field("published", &kids)
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// Loads the configured keys. In development with no key configured, a key of the
    /// configured algorithm is generated once into the data directory (see
    /// [`Self::development_key_path`]) and reused on later starts. Production settings
    /// validation has already insisted on a configured key.
    pub fn load(settings: &Settings) -> Result<Self, KeyError> {
        let algorithm = settings.auth.signing_algorithm;
        let signing_path = if let Some(path) = &settings.auth.signing_key_file {
            path.clone()
        } else {
            let path = Self::development_key_path(&settings.data_dir, algorithm);
            if !path.exists() {
                Self::generate_file(&path, algorithm)?;
                tracing::info!(path = %path.display(), %algorithm, "generated a development signing key");
            }
            path
        };
        let ParsedKey::Private(signing) = read_key(&signing_path)? else {
            return Err(KeyError::NotPrivate { path: signing_path });
        };
        if signing.algorithm() != algorithm {
            let found = signing.algorithm();
            return Err(KeyError::WrongAlgorithm {
                path: signing_path,
                found,
                configured: algorithm,
            });
        }
        let mut verifying = Vec::new();
        for path in &settings.auth.verification_key_files {
            verifying.push(read_key(path)?.public_key());
        }
        Self::new(&signing, &verifying)
    }

    /// Where development keys live: `data_dir/keys/signing.pem` for Ed25519 (where it always
    /// was) and `data_dir/keys/signing-es256.pem` for P-256, so switching the algorithm back
    /// and forth in development reuses each key rather than tripping over the other.
    pub fn development_key_path(data_dir: &Path, algorithm: SigningAlgorithm) -> PathBuf {
        let file = match algorithm {
            SigningAlgorithm::EdDSA => "signing.pem",
            SigningAlgorithm::ES256 => "signing-es256.pem",
        };
        data_dir.join("keys").join(file)
    }

    fn new(signing: &PrivateKey, older: &[PublicKey]) -> Result<Self, KeyError> {
        let (mut published, mut jwks) = (Vec::<PublishedKey>::new(), JwkSet::default());
        for key in std::iter::once(&signing.public_key()).chain(older) {
            let (jwk, kid) = key.jwk()?;
            if !published.iter().any(|k| k.kid == kid) {
                let decoding =
                    DecodingKey::from_jwk(&jwk).map_err(|e| KeyError::Encode(e.to_string()))?;
                let algorithm = key.algorithm().jws();
                published.push(PublishedKey { kid, algorithm, decoding });
                jwks.keys.push(jwk);
            }
        }
        Ok(Self {
            signing_kid: published[0].kid.clone(),
            signing_algorithm: signing.algorithm(),
            signing: signing.encoding_key()?,
            seed: signing.secret_bytes(),
            published,
            jwks,
        })
    }

    /// Writes a fresh private key of `algorithm` to `path` (PKCS#8 PEM as OpenSSL writes it,
    /// mode 0600, never overwriting) and returns its kid.
    pub fn generate_file(path: &Path, algorithm: SigningAlgorithm) -> Result<String, KeyError> {
        let key = PrivateKey::generate(algorithm)?;
        let pem = key.to_pem()?;
        write_private_file(path, pem.as_bytes())
            .map_err(|source| KeyError::Write { path: path.to_owned(), source })?;
        Ok(key.public_key().jwk()?.1)
    }

    pub fn signing_kid(&self) -> &str {
        &self.signing_kid
    }

    pub fn signing_algorithm(&self) -> SigningAlgorithm {
        self.signing_algorithm
    }

    pub fn signing_key(&self) -> &EncodingKey {
        &self.signing
    }

    /// The key published as `kid` and the one algorithm it verifies.
    pub fn decoding_key(&self, kid: &str) -> Option<(&DecodingKey, Algorithm)> {
        self.published.iter().find(|k| k.kid == kid).map(|k| (&k.decoding, k.algorithm))
    }

    /// Every algorithm a published key verifies, the signing key's first, each once.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let mut algorithms = Vec::new();
        for key in &self.published {
            if !algorithms.contains(&key.algorithm) {
                algorithms.push(key.algorithm);
            }
        }
        algorithms
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

/// Writes `contents` to a new file only its owner can read (0600), creating its folder. Never
/// overwrites: an existing file is an error.
pub(crate) fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents)
}

#[cfg(test)]
pub(crate) mod tests;
