//! What a Warren access token says and the rules every verifier applies to it. Warren issues
//! and verifies its tokens with these very types, so a claim added on one side is a compile
//! error on the other.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, KeyAlgorithm};
use jsonwebtoken::{Algorithm, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The media type of a Warren access token (RFC 9068), carried in the JWT header.
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Clock skew tolerated between Warren and the services verifying its tokens.
pub const LEEWAY_SECS: i64 = 30;
/// The signature algorithms Warren signs with: Ed25519, and P-256 for ecosystems whose JWT
/// libraries lack EdDSA. Each published key is used with its own algorithm only.
pub const SIGNING_ALGORITHMS: [Algorithm; 2] = [Algorithm::EdDSA, Algorithm::ES256];

/// Every claim of a Warren access token; a token lacking any of them is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarrenClaims {
    pub iss: String,
    pub aud: String,
    /// The user id.
    pub sub: Uuid,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub jti: Uuid,
    /// The Warren session the token was issued for.
    pub sid: Uuid,
    /// The user's token version at issue; only Warren can check it against the database.
    pub ver: i64,
    /// How the signin behind the session was authenticated (RFC 8176): `["pwd"]`, or
    /// `["pwd", "otp"]` after a second factor. Check it before actions that need one.
    pub amr: Vec<String>,
}

/// Why a token was refused. Services should answer every variant with the same 401.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    #[error("token is malformed")]
    Malformed,
    #[error("token is not a Warren access token")]
    NotAnAccessToken,
    #[error("token was signed by an unknown key")]
    UnknownKey,
    #[error("token signature or claims are invalid: {0}")]
    Invalid(String),
    #[error("token has expired")]
    Expired,
    #[error("token is not valid yet")]
    NotYetValid,
    #[error("token claims to be issued in the future")]
    IssuedInFuture,
    #[error("token lifetime exceeds the maximum")]
    LifetimeTooLong,
}

/// The signature and claim checks for tokens signed with `algorithm` (and no other): `iss` and
/// `aud` must match and the registered claims must be present. Times are left to
/// [`check_times`], which applies Warren's leeway rules exactly.
pub fn validation(algorithm: Algorithm, issuer: &str, audience: &str) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.leeway = 0;
    validation
}

/// The one algorithm a published key verifies: its `alg` member, provided the key's type and
/// curve fit it (`EdDSA` with an Ed25519 `OKP` key, `ES256` with a P-256 `EC` key). Anything
/// else is not a Warren key and verifies nothing, so a token can never choose its algorithm.
pub fn pinned_algorithm(jwk: &Jwk) -> Option<Algorithm> {
    match (jwk.common.key_algorithm?, &jwk.algorithm) {
        (KeyAlgorithm::EdDSA, AlgorithmParameters::OctetKeyPair(okp))
            if okp.curve == EllipticCurve::Ed25519 =>
        {
            Some(Algorithm::EdDSA)
        }
        (KeyAlgorithm::ES256, AlgorithmParameters::EllipticCurve(ec))
            if ec.curve == EllipticCurve::P256 =>
        {
            Some(Algorithm::ES256)
        }
        _ => None,
    }
}

/// Warren's time rules: `exp` and `nbf` with leeway, no `iat` from the future, bounded lifetime.
pub fn check_times(claims: &WarrenClaims, now: i64, max_lifetime: i64) -> Result<(), Rejection> {
    if is_expired(claims, now) {
        return Err(Rejection::Expired);
    }
    if now.saturating_add(LEEWAY_SECS) < claims.nbf {
        return Err(Rejection::NotYetValid);
    }
    if claims.iat > now.saturating_add(LEEWAY_SECS) {
        return Err(Rejection::IssuedInFuture);
    }
    if claims.exp.saturating_sub(claims.iat) > max_lifetime {
        return Err(Rejection::LifetimeTooLong);
    }
    Ok(())
}

/// Whether `now` is past the token's expiry plus the leeway.
pub fn is_expired(claims: &WarrenClaims, now: i64) -> bool {
    now >= claims.exp.saturating_add(LEEWAY_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(iat: i64, lifetime: i64) -> WarrenClaims {
        WarrenClaims {
            iss: "i".into(),
            aud: "a".into(),
            sub: Uuid::nil(),
            iat,
            nbf: iat,
            exp: iat + lifetime,
            jti: Uuid::nil(),
            sid: Uuid::nil(),
            ver: 1,
            amr: vec!["pwd".to_owned()],
        }
    }

    #[test]
    fn expiry_allows_thirty_seconds_of_leeway_and_no_more() {
        let c = claims(1_000, 900);
        assert_eq!(check_times(&c, 1_900 + 29, 900), Ok(()));
        assert_eq!(check_times(&c, 1_900 + 30, 900), Err(Rejection::Expired));
    }

    #[test]
    fn tokens_not_yet_valid_or_issued_in_the_future_are_refused() {
        let mut c = claims(2_000, 900);
        assert_eq!(check_times(&c, 1_000, 900), Err(Rejection::NotYetValid));
        c.nbf = 1_000;
        assert_eq!(check_times(&c, 1_000, 900), Err(Rejection::IssuedInFuture));
        assert_eq!(check_times(&c, 2_000 - 30, 900), Ok(()), "30 s of skew is tolerated");
    }

    #[test]
    fn lifetimes_over_the_maximum_are_refused() {
        assert_eq!(check_times(&claims(1_000, 901), 1_000, 900), Err(Rejection::LifetimeTooLong));
        assert_eq!(check_times(&claims(1_000, 900), 1_000, 900), Ok(()));
    }

    #[test]
    fn extreme_values_do_not_overflow() {
        let c = claims(i64::MIN, 0);
        assert!(check_times(&c, i64::MAX, i64::MAX).is_err());
    }

    fn jwk(value: &serde_json::Value) -> Jwk {
        serde_json::from_value(value.clone()).expect("a JWK")
    }

    #[test]
    fn each_key_verifies_with_its_own_algorithm_only() {
        let ed = serde_json::json!({"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "alg": "EdDSA"});
        let p256 = serde_json::json!({"kty": "EC", "crv": "P-256", "alg": "ES256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"});
        assert_eq!(pinned_algorithm(&jwk(&ed)), Some(Algorithm::EdDSA));
        assert_eq!(pinned_algorithm(&jwk(&p256)), Some(Algorithm::ES256));
        let mut mislabelled = p256.clone();
        mislabelled["alg"] = "EdDSA".into();
        assert_eq!(pinned_algorithm(&jwk(&mislabelled)), None, "alg must fit the key type");
        let mut unlabelled = ed;
        unlabelled.as_object_mut().expect("object").remove("alg");
        assert_eq!(pinned_algorithm(&jwk(&unlabelled)), None, "no alg, no algorithm to pin");
        let mut p384 = p256;
        p384["crv"] = "P-384".into();
        assert_eq!(pinned_algorithm(&jwk(&p384)), None);
    }
}
