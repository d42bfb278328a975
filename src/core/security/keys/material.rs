//! Key material of either algorithm: Ed25519 (EdDSA) and P-256 (ES256) keys read from and
//! written to PKCS#8 PEM, and their public JWKs.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
// One `pkcs8` crate serves both key types: these traits read and write P-256 keys too.
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, KeypairBytes};
use jsonwebtoken::jwk::{
    AlgorithmParameters, CommonParameters, EllipticCurve, EllipticCurveKeyParameters,
    EllipticCurveKeyType, Jwk, KeyAlgorithm, OctetKeyPairParameters, OctetKeyPairType,
    PublicKeyUse, ThumbprintHash,
};
use jsonwebtoken::{Algorithm, EncodingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use zeroize::Zeroizing;

use super::KeyError;
use crate::core::config::SigningAlgorithm;

/// A private key: it signs, and derived secrets come from it.
pub(crate) enum PrivateKey {
    Ed25519(ed25519_dalek::SigningKey),
    P256(p256::SecretKey),
}

/// A public key: it verifies, and is published in the JWKS.
pub(crate) enum PublicKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    P256(p256::PublicKey),
}

pub(crate) enum ParsedKey {
    Private(PrivateKey),
    Public(PublicKey),
}

impl ParsedKey {
    pub(crate) fn public_key(&self) -> PublicKey {
        match self {
            Self::Private(key) => key.public_key(),
            Self::Public(key) => key.clone(),
        }
    }
}

impl Clone for PublicKey {
    fn clone(&self) -> Self {
        match self {
            Self::Ed25519(key) => Self::Ed25519(*key),
            Self::P256(key) => Self::P256(*key),
        }
    }
}

impl PrivateKey {
    /// A fresh key from the operating system's randomness.
    pub(crate) fn generate(algorithm: SigningAlgorithm) -> Result<Self, KeyError> {
        let mut secret = Zeroizing::new([0u8; 32]);
        loop {
            getrandom::fill(secret.as_mut()).map_err(|e| KeyError::Random(e.to_string()))?;
            match algorithm {
                SigningAlgorithm::EdDSA => {
                    return Ok(Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(&secret)));
                }
                // Zero or a value past the group order (odds about 2^-32) is drawn again.
                SigningAlgorithm::ES256 => {
                    if let Ok(key) = p256::SecretKey::from_slice(secret.as_ref()) {
                        return Ok(Self::P256(key));
                    }
                }
            }
        }
    }

    pub(crate) fn algorithm(&self) -> SigningAlgorithm {
        match self {
            Self::Ed25519(_) => SigningAlgorithm::EdDSA,
            Self::P256(_) => SigningAlgorithm::ES256,
        }
    }

    pub(crate) fn public_key(&self) -> PublicKey {
        match self {
            Self::Ed25519(key) => PublicKey::Ed25519(key.verifying_key()),
            Self::P256(key) => PublicKey::P256(key.public_key()),
        }
    }

    /// The 32 secret bytes (Ed25519 seed, P-256 scalar) purpose-bound secrets derive from.
    pub(crate) fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        match self {
            Self::Ed25519(key) => Zeroizing::new(key.to_bytes()),
            Self::P256(key) => Zeroizing::new(key.to_bytes().into()),
        }
    }

    pub(crate) fn encoding_key(&self) -> Result<EncodingKey, KeyError> {
        let encode = |e: &dyn std::fmt::Display| KeyError::Encode(e.to_string());
        Ok(match self {
            Self::Ed25519(key) => {
                EncodingKey::from_ed_der(key.to_pkcs8_der().map_err(|e| encode(&e))?.as_bytes())
            }
            Self::P256(key) => {
                EncodingKey::from_ec_der(key.to_pkcs8_der().map_err(|e| encode(&e))?.as_bytes())
            }
        })
    }

    /// PKCS#8 PEM as OpenSSL writes it: for Ed25519 the v1 form (RFC 8410, the seed alone),
    /// since OpenSSL 3 and Python's `cryptography` refuse the v2 form with the public key
    /// embedded; for P-256 `openssl genpkey -algorithm EC`'s form (RFC 5915 inside PKCS#8).
    pub(crate) fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let encoded = match self {
            Self::Ed25519(key) => {
                let seed_only = KeypairBytes { secret_key: key.to_bytes(), public_key: None };
                seed_only.to_pkcs8_pem(LineEnding::LF)
            }
            Self::P256(key) => key.to_pkcs8_pem(LineEnding::LF),
        };
        encoded.map_err(|e| KeyError::Encode(e.to_string()))
    }
}

impl PublicKey {
    pub(crate) fn algorithm(&self) -> SigningAlgorithm {
        match self {
            Self::Ed25519(_) => SigningAlgorithm::EdDSA,
            Self::P256(_) => SigningAlgorithm::ES256,
        }
    }

    /// The public JWK (RFC 8037 for Ed25519, RFC 7518 for P-256) with `alg` and `use`, and its
    /// kid: the RFC 7638 thumbprint, the same wherever the key is loaded.
    pub(crate) fn jwk(&self) -> Result<(Jwk, String), KeyError> {
        let (key_algorithm, algorithm) = match self {
            Self::Ed25519(key) => (
                KeyAlgorithm::EdDSA,
                AlgorithmParameters::OctetKeyPair(OctetKeyPairParameters {
                    key_type: OctetKeyPairType::OctetKeyPair,
                    curve: EllipticCurve::Ed25519,
                    x: URL_SAFE_NO_PAD.encode(key.as_bytes()),
                }),
            ),
            Self::P256(key) => {
                let point = key.to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(KeyError::Encode("P-256 key is the identity".to_owned()));
                };
                let parameters = EllipticCurveKeyParameters {
                    key_type: EllipticCurveKeyType::EC,
                    curve: EllipticCurve::P256,
                    x: URL_SAFE_NO_PAD.encode(x),
                    y: URL_SAFE_NO_PAD.encode(y),
                };
                (KeyAlgorithm::ES256, AlgorithmParameters::EllipticCurve(parameters))
            }
        };
        let common = CommonParameters {
            public_key_use: Some(PublicKeyUse::Signature),
            key_algorithm: Some(key_algorithm),
            ..CommonParameters::default()
        };
        let mut jwk = Jwk { common, algorithm };
        let kid =
            jwk.thumbprint(ThumbprintHash::SHA256).map_err(|e| KeyError::Encode(e.to_string()))?;
        jwk.common.key_id = Some(kid.clone());
        Ok((jwk, kid))
    }
}

impl SigningAlgorithm {
    /// The JWS algorithm of tokens signed with a key of this kind.
    pub fn jws(self) -> Algorithm {
        match self {
            Self::EdDSA => Algorithm::EdDSA,
            Self::ES256 => Algorithm::ES256,
        }
    }
}

/// Reads a PKCS#8 PEM private key or SPKI PEM public key of either algorithm.
pub(crate) fn read_key(path: &Path) -> Result<ParsedKey, KeyError> {
    let pem = Zeroizing::new(
        std::fs::read_to_string(path)
            .map_err(|source| KeyError::Read { path: path.to_owned(), source })?,
    );
    parse_key(&pem).ok_or_else(|| KeyError::Parse { path: path.to_owned() })
}

fn parse_key(pem: &str) -> Option<ParsedKey> {
    if let Ok(key) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
        return Some(ParsedKey::Private(PrivateKey::Ed25519(key)));
    }
    if let Ok(key) = p256::SecretKey::from_pkcs8_pem(pem) {
        return Some(ParsedKey::Private(PrivateKey::P256(key)));
    }
    if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_pem(pem) {
        return Some(ParsedKey::Public(PublicKey::Ed25519(key)));
    }
    p256::PublicKey::from_public_key_pem(pem)
        .ok()
        .map(|key| ParsedKey::Public(PublicKey::P256(key)))
}
